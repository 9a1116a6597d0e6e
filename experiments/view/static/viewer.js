// storetwin view: the store, its cameras, the shoppers (truth) and the core's tracks on a
// timeline, shelf events and receipts. Data: window.STORETWIN_VIEW (data.js, written by
// experiments/view/page.py). Store frame: metres, z up; three.js is told so (camera.up).
// Tests drive the page through window.storetwinViewer (see the end of this file).
(function () {
  'use strict';
  const V = window.storetwinViewer = { ready: false, errors: [], fps: 0, frames: 0 };
  window.addEventListener('error', (e) => V.errors.push(String(e.message)));
  const D = window.STORETWIN_VIEW;
  const T0 = performance.now();
  const EVENT_SHOW_S = 20;      // a shelf event's marker stays this long after it [s]
  const SWITCH_SHOW_S = 8;      // an identity switch's marker [s]
  const STOCK_LOD_M = 70;       // stock drawn only when the eye is nearer than this [m]
  const TRAIL_S = 60;           // the selected shopper's trail [s]
  const PEOPLE_LOD_M = 45;      // farther than this, people are drawn as dots (1 vertex) [m]
  const ACTION_COLOURS = { pick: 0x2e9d4a, put_back: 0x3d7fd6, misplaced: 0xf08a1c };
  const BILLED_COLOUR = 0x8e44ad, SWITCH_COLOUR = 0xe0262b, UNBOUND = 0x9a9a9a;

  // ---- wire format: deflated little-endian arrays in base64 (experiments/view/blobs.py) ----
  const CTORS = { f4: Float32Array, u2: Uint16Array, u4: Uint32Array, i4: Int32Array,
                  u1: Uint8Array };
  const B64 = new Uint8Array(256);
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('')
    .forEach((c, i) => { B64[c.charCodeAt(0)] = i; });
  function b64bytes(s) {
    let n = s.length; while (n && s[n - 1] === '=') n--;
    const out = new Uint8Array((n * 3) >> 2);
    let o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = (B64[s.charCodeAt(i)] << 18) | (B64[s.charCodeAt(i + 1)] << 12) |
                (B64[s.charCodeAt(i + 2)] << 6) | B64[s.charCodeAt(i + 3)];
      out[o++] = v >> 16; out[o++] = (v >> 8) & 255; out[o++] = v & 255;
    }
    if (n - i === 2) out[o++] = (B64[s.charCodeAt(i)] << 2) | (B64[s.charCodeAt(i + 1)] >> 4);
    if (n - i === 3) {
      const v = (B64[s.charCodeAt(i)] << 10) | (B64[s.charCodeAt(i + 1)] << 4) |
                (B64[s.charCodeAt(i + 2)] >> 2);
      out[o++] = v >> 8; out[o++] = v & 255;
    }
    return out;
  }
  async function inflate(b) {
    const stream = new Blob([b64bytes(b.z)]).stream()
      .pipeThrough(new DecompressionStream('deflate'));
    const buf = await new Response(stream).arrayBuffer();
    if (b.dtype === 'json') return JSON.parse(new TextDecoder().decode(buf));
    const a = new CTORS[b.dtype](buf);
    if (b.delta) for (let i = 1; i < a.length; i++) a[i] += a[i - 1];   // wraps like numpy
    return a;
  }
  async function unpack(o) {         // every blob in o, in place, as its typed array
    if (!o || typeof o !== 'object') return o;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v && typeof v === 'object' && typeof v.z === 'string' && v.dtype) o[k] = await inflate(v);
      else if (v && typeof v === 'object' && !Array.isArray(v)) await unpack(v);
    }
    return o;
  }

  // ---- colours: one stable colour per account or id -----------------------------------------
  function idColour(n) {
    if (n < 0) return new THREE.Color(UNBOUND);
    let h = (n * 2654435761) >>> 0; h ^= h >>> 15; h = Math.imul(h, 2246822519) >>> 0;
    return new THREE.Color().setHSL((h % 3600) / 3600, 0.62, 0.52);
  }

  // ---- the scene --------------------------------------------------------------------------
  const canvas = document.getElementById('canvas');
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false });
  // Dynamic resolution: while playing, the drawing buffer shrinks (to MIN_SCALE of the
  // screen's pixels at least) until frames keep up with FPS_GOAL; a still picture is drawn
  // at full resolution. Software renderers (SwiftShader, llvmpipe) are bound by pixels.
  // Resizing the buffer costs a software renderer ~0.1-0.3 s, so the playing size is chosen
  // once (PLAY_PIXELS at most) and lowered only after two slow seconds in a row.
  const FULL_RATIO = Math.min(window.devicePixelRatio || 1, 1.5), MIN_SCALE = 0.3, FPS_GOAL = 30;
  const PLAY_PIXELS = 160000;
  let scale = 1, slow = 0;
  renderer.setPixelRatio(FULL_RATIO);
  // Two scenes: the store (static: drawn into a buffer with its depth only when the view or
  // a layer changes) and what moves (drawn over that buffer every frame, depth-tested
  // against it). A frame of a still camera costs one screen quad plus the people, whatever
  // the store's size.
  const scene = new THREE.Scene(), live = new THREE.Scene();
  scene.background = new THREE.Color(0xe9e7e1);
  const camera = new THREE.PerspectiveCamera(45, 1, 0.1, 5000);
  camera.up.set(0, 0, 1);
  for (const sc of [scene, live]) {
    sc.add(new THREE.HemisphereLight(0xffffff, 0x8a8576, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.4);
    sun.position.set(0.4, -0.6, 1);
    sc.add(sun);
  }
  const backdrop = (() => {
    const rt = new THREE.WebGLRenderTarget(1, 1, { depthTexture: new THREE.DepthTexture(1, 1) });
    const mat = new THREE.ShaderMaterial({
      uniforms: { tColor: { value: rt.texture }, tDepth: { value: rt.depthTexture } },
      vertexShader: 'varying vec2 vUv; void main() { vUv = uv; gl_Position = vec4(position.xy, 0.0, 1.0); }',
      fragmentShader: 'uniform sampler2D tColor; uniform sampler2D tDepth; varying vec2 vUv;\n' +
        'void main() { gl_FragColor = texture2D(tColor, vUv); gl_FragDepth = texture2D(tDepth, vUv).x;\n' +
        '#include <colorspace_fragment>\n}',
      depthTest: false, depthWrite: true,
    });
    const quad = new THREE.Mesh(new THREE.PlaneGeometry(2, 2), mat);
    quad.frustumCulled = false;
    const qs = new THREE.Scene(); qs.add(quad);
    return { rt, qs, qc: new THREE.OrthographicCamera(-1, 1, 1, -1, 0, 1) };
  })();
  const bufSize = new THREE.Vector2();
  const unitBox = new THREE.BoxGeometry(1, 1, 1);

  function boxes(arr, colours, material, rotated) {   // (n, 6|7) centre, size[, angle]
    const w = rotated ? 7 : 6, n = arr.length / w;
    const mesh = new THREE.InstancedMesh(unitBox, material, Math.max(n, 1));
    mesh.count = n;
    const m = new THREE.Matrix4(), q = new THREE.Quaternion(), zAxis = new THREE.Vector3(0, 0, 1);
    const p = new THREE.Vector3(), s = new THREE.Vector3(), c = new THREE.Color();
    for (let i = 0; i < n; i++) {
      const a = i * w;
      p.set(arr[a], arr[a + 1], arr[a + 2]);
      s.set(Math.max(arr[a + 3], 1e-3), Math.max(arr[a + 4], 1e-3), Math.max(arr[a + 5], 1e-3));
      q.setFromAxisAngle(zAxis, rotated ? arr[a + 6] : 0);
      mesh.setMatrixAt(i, m.compose(p, q, s));
      if (colours) mesh.setColorAt(i, c.setRGB(colours[3 * i] / 255, colours[3 * i + 1] / 255,
                                                colours[3 * i + 2] / 255, THREE.SRGBColorSpace));
    }
    if (n) mesh.computeBoundingSphere();
    return mesh;
  }

  function buildStore(S) {
    const g = new THREE.Group();
    const shape = new THREE.Shape(S.outline.map(([x, y]) => new THREE.Vector2(x, y)));
    const floor = new THREE.Mesh(new THREE.ShapeGeometry(shape),
                                 new THREE.MeshLambertMaterial({ color: 0xd9d3c3 }));
    g.add(floor);
    g.add(boxes(S.walls, null, new THREE.MeshLambertMaterial(
      { color: 0xc9c4b8, transparent: true, opacity: 0.2, depthWrite: false }), true));
    g.add(boxes(S.fixtures.box, S.fixtures.color, new THREE.MeshLambertMaterial()));
    for (const gate of S.gates) {
      const col = gate.kind === 'exit' ? 0xd0463b : gate.kind === 'entrance' ? 0x2e9d4a : 0x3d7fd6;
      const geo = new THREE.BufferGeometry().setFromPoints(
        [new THREE.Vector3(gate.a[0], gate.a[1], 0.03), new THREE.Vector3(gate.b[0], gate.b[1], 0.03)]);
      g.add(new THREE.Line(geo, new THREE.LineBasicMaterial({ color: col, linewidth: 3 })));
    }
    return g;
  }

  // stock in chunks of consecutive bins (roughly a fixture run each): culled off screen by
  // three.js, and left out beyond STOCK_LOD_M of the eye
  function buildStock(S) {
    const chunks = [], n = S.stock.box.length / 6, size = 2048;
    const mat = new THREE.MeshLambertMaterial();
    for (let a = 0; a < n; a += size) {
      const b = Math.min(n, a + size);
      const mesh = boxes(S.stock.box.subarray(6 * a, 6 * b), S.stock.color.subarray(3 * a, 3 * b), mat);
      chunks.push(mesh);
    }
    return chunks;
  }

  function buildCameras(S) {
    const pos = S.cameras.position, fl = S.cameras.floor, n = pos.length / 3;
    const v = new Float32Array(n * 16 * 3);
    let o = 0;
    const put = (x, y, z) => { v[o++] = x; v[o++] = y; v[o++] = z; };
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 4; k++) {
        const a = 12 * i + 3 * k, b = 12 * i + 3 * ((k + 1) % 4);
        put(pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]); put(fl[a], fl[a + 1], fl[a + 2] + 0.02);
        put(fl[a], fl[a + 1], fl[a + 2] + 0.02); put(fl[b], fl[b + 1], fl[b + 2] + 0.02);
      }
    }
    const geo = new THREE.BufferGeometry();
    geo.setAttribute('position', new THREE.BufferAttribute(v, 3));
    const frusta = new THREE.LineSegments(geo, new THREE.LineBasicMaterial(
      { color: 0x3060b0, transparent: true, opacity: 0.25 }));
    const dots = new THREE.InstancedMesh(new THREE.BoxGeometry(0.25, 0.25, 0.12),
                                         new THREE.MeshLambertMaterial({ color: 0x1d2a44 }), Math.max(n, 1));
    dots.count = n;
    const m = new THREE.Matrix4();
    for (let i = 0; i < n; i++) dots.setMatrixAt(i, m.makeTranslation(pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]));
    if (n) dots.computeBoundingSphere();
    return { frusta, dots };
  }

  function buildCoverage(C) {
    if (!C) return null;
    const w = C.nx * C.cell, h = C.ny * C.cell;
    const tex = new THREE.TextureLoader().load(C.png, () => { dirty = staticDirty = true; });
    tex.magFilter = THREE.NearestFilter;
    tex.colorSpace = THREE.SRGBColorSpace;
    const plane = new THREE.Mesh(new THREE.PlaneGeometry(w, h), new THREE.MeshBasicMaterial(
      { map: tex, transparent: true, depthWrite: false }));
    plane.position.set(C.origin[0] + w / 2, C.origin[1] + h / 2, 0.015);
    return plane;
  }

  // ---- tracks: segments of rows (experiments/view/motion.py) ---------------------------------
  class Side {
    constructor(d, qb, kind) {
      this.kind = kind; this.d = d; this.n = d ? d.segments : 0;
      this.sx = (qb[2] - qb[0]) / 65535; this.sy = (qb[3] - qb[1]) / 65535;
      this.x0 = qb[0]; this.y0 = qb[1];
      this.f0 = new Float64Array(this.n); this.f1 = new Float64Array(this.n);
      for (let s = 0; s < this.n; s++) {
        const a = d.seg_start[s];
        this.f0[s] = d.frame[a]; this.f1[s] = d.frame[a + d.seg_rows[s] - 1];
      }
      this.active = new Int32Array(this.n); this.ax = new Float64Array(this.n);
      this.ay = new Float64Array(this.n); this.count = 0;
      this.drawn = new Int32Array(this.n); this.nDrawn = 0;   // which active ones are on screen
    }
    pos(s, f) {                       // [x, y] of segment s at (fractional) frame f
      const d = this.d, a = d.seg_start[s], last = a + d.seg_rows[s] - 1;
      let lo = a, hi = last;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (d.frame[mid] <= f) lo = mid; else hi = mid - 1; }
      let x = d.x[lo], y = d.y[lo];
      if (lo < last && f > d.frame[lo]) {
        const u = (f - d.frame[lo]) / (d.frame[lo + 1] - d.frame[lo]);
        x += (d.x[lo + 1] - x) * u; y += (d.y[lo + 1] - y) * u;
      }
      return [this.x0 + x * this.sx, this.y0 + y * this.sy];
    }
    update(f) {
      let c = 0;
      for (let s = 0; s < this.n; s++) {
        if (f < this.f0[s] || f > this.f1[s]) continue;
        const [x, y] = this.pos(s, f);
        this.active[c] = s; this.ax[c] = x; this.ay[c] = y; c++;
      }
      this.count = c;
    }
    segOf(id, f) {
      for (let s = 0; s < this.n; s++) if (this.d.seg_id[s] === id && f >= this.f0[s] && f <= this.f1[s]) return s;
      return -1;
    }
  }

  const DOT = (() => {          // a round dot for THREE.Points
    const c = document.createElement('canvas'); c.width = c.height = 32;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.beginPath(); g.arc(16, 16, 15, 0, 7); g.fill();
    return new THREE.CanvasTexture(c);
  })();

  // one side's people: instanced bodies (or rings) near, dots far; a group to toggle
  function people(n, geo, dotSize) {
    const mesh = new THREE.InstancedMesh(geo, new THREE.MeshLambertMaterial(), Math.max(n, 1));
    mesh.count = 0; mesh.frustumCulled = false;
    mesh.setColorAt(0, new THREE.Color(1, 1, 1));
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(new Float32Array(3 * Math.max(n, 1)), 3));
    g.setAttribute('color', new THREE.BufferAttribute(new Float32Array(3 * Math.max(n, 1)), 3));
    const dots = new THREE.Points(g, new THREE.PointsMaterial(     // dotSize: pixels
      { size: dotSize, sizeAttenuation: false, vertexColors: true, map: DOT, alphaTest: 0.5 }));
    dots.frustumCulled = false;
    const group = new THREE.Group(); group.add(mesh, dots);
    return { mesh, dots, group };
  }

  // markers of timed things (events, switches): those within [t - show, t + lead] are drawn
  function markerMesh(items, geo, colourOf, placeOf) {
    const mesh = new THREE.InstancedMesh(geo, new THREE.MeshLambertMaterial(), Math.max(items.length, 1));
    mesh.count = 0; mesh.frustumCulled = false;
    mesh.userData = { items, colourOf, placeOf };
    return mesh;
  }

  // ---- state --------------------------------------------------------------------------------
  let t = 0, playing = false, speed = 10, dirty = true, staticDirty = true, colourBy = 'account';
  let selection = null;
  const st = {};

  let shownAt = -1;
  function setTime(x) {
    t = Math.max(0, Math.min(D.t_end, x));
    dirty = true;
  }
  function showClock(now) {   // the clock and slider, ten times a second at most (DOM work)
    if (now - shownAt < 100 && playing) return;
    shownAt = now;
    st.slider.value = String(t);
    st.clock.textContent = fmtTime(t);
  }
  function fmtTime(x) {
    const m = Math.floor(x / 60), s = x - 60 * m;
    return `${m}:${s < 10 ? '0' : ''}${s.toFixed(1)}`;
  }

  const M4 = new THREE.Matrix4(), Q = new THREE.Quaternion(), P = new THREE.Vector3();
  const FRUSTUM = new THREE.Frustum(), SPH = new THREE.Sphere(new THREE.Vector3(), 1.2);
  const PV = new THREE.Matrix4();
  const ONE = new THREE.Vector3(1, 1, 1), BIG = new THREE.Vector3(1.25, 1.25, 1.12);
  function upload(mesh, n) {     // only the instances in use go to the GPU (not capacity)
    for (const a of [mesh.instanceMatrix, mesh.instanceColor]) {
      if (!a) continue;
      a.clearUpdateRanges(); a.addUpdateRange(0, Math.max(1, n) * a.itemSize); a.needsUpdate = true;
    }
  }

  function drawSide(side, pp, z, idOf) {
    const f = t * D.hz, far = camera.position.distanceTo(st.controls.target) > PEOPLE_LOD_M;
    const { mesh, dots } = pp, pos = dots.geometry.attributes.position, col = dots.geometry.attributes.color;
    side.update(f);
    let n = 0;
    for (let k = 0; k < side.count; k++) {
      SPH.center.set(side.ax[k], side.ay[k], z);
      if (!FRUSTUM.intersectsSphere(SPH)) continue;        // off screen: not drawn
      const s = side.active[k];
      const sel = selection && selection[side.kind] === side.d.seg_id[s];
      const c = idColour(colourBy === 'account' ? side.d.seg_account[s] : idOf(side.d.seg_id[s]));
      if (sel) c.lerp(new THREE.Color(1, 1, 1), 0.45);
      if (far) {
        pos.setXYZ(n, side.ax[k], side.ay[k], z); col.setXYZ(n, c.r, c.g, c.b);
      } else {
        mesh.setMatrixAt(n, M4.compose(SPH.center, Q, sel ? BIG : ONE));
        mesh.setColorAt(n, c);
      }
      side.drawn[n++] = k;
    }
    side.nDrawn = n;
    mesh.visible = !far; dots.visible = far;
    if (far) {
      dots.geometry.setDrawRange(0, n);
      for (const a of [pos, col]) { a.clearUpdateRanges(); a.addUpdateRange(0, Math.max(1, n) * 3); a.needsUpdate = true; }
      dots.geometry.boundingSphere = null;
    } else {
      mesh.count = n;
      mesh.boundingSphere = null;     // the hover's ray test recomputes it from the instances
      upload(mesh, n);
    }
  }

  function drawMarkers(mesh, tKey, show, lead) {
    const { items, colourOf, placeOf } = mesh.userData;
    let lo = 0, hi = items.length;          // first item with time >= t - show
    while (lo < hi) { const mid = (lo + hi) >> 1; if (items[mid][tKey] < t - show) lo = mid + 1; else hi = mid; }
    let c = 0;
    const col = new THREE.Color();
    for (let i = lo; i < items.length && items[i][tKey] <= t + lead; i++) {
      const p = placeOf(items[i]);
      if (!p) continue;
      P.set(p[0], p[1], p[2]);
      const age = Math.max(0, t - items[i][tKey]);
      const k = 1 + 0.6 * Math.max(0, 1 - age / 2);     // fresh markers are bigger
      mesh.setMatrixAt(c, M4.compose(P, Q, new THREE.Vector3(k, k, k)));
      mesh.setColorAt(c, col.setHex(colourOf(items[i])));
      c++;
    }
    mesh.count = c;
    upload(mesh, c);
  }

  function drawTrail() {
    const line = st.trail;
    if (!selection || selection.shopper == null || !st.truth.n) { line.visible = false; return; }
    const side = st.truth, f = t * D.hz, pts = [];
    for (let s = 0; s < side.n; s++) {
      if (side.d.seg_id[s] !== selection.shopper || side.f0[s] > f) continue;
      const a = Math.max(side.f0[s], f - TRAIL_S * D.hz), b = Math.min(side.f1[s], f);
      for (let x = a; x <= b; x += Math.max(1, D.hz / 3)) { const [px, py] = side.pos(s, x); pts.push(px, py, 0.06); }
    }
    line.geometry.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
    line.visible = pts.length > 3;
  }

  function updateDynamic() {
    camera.updateMatrixWorld();
    FRUSTUM.setFromProjectionMatrix(PV.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse));
    drawSide(st.truth, st.truthPeople, 0.85, (id) => id);
    drawSide(st.core, st.corePeople, 0.04, (id) => id + 100003);
    drawMarkers(st.eventMesh, 't', EVENT_SHOW_S, 0.3);
    drawMarkers(st.billedMesh, 't_start', EVENT_SHOW_S, 0.3);
    drawMarkers(st.switchMesh, 't', SWITCH_SHOW_S, 1.0);
    drawTrail();
  }

  function lod() {
    const eye = camera.position;
    for (const ch of st.stock) {
      ch.visible = st.showStock && ch.count > 0 &&
        ch.boundingSphere.center.distanceTo(eye) - ch.boundingSphere.radius < STOCK_LOD_M;
    }
  }

  function playScale() {
    const r = canvas.parentElement.getBoundingClientRect();
    const px = r.width * r.height * FULL_RATIO * FULL_RATIO;
    return Math.max(MIN_SCALE, Math.min(1, Math.sqrt(PLAY_PIXELS / Math.max(px, 1))));
  }

  function draw() {
    renderer.getDrawingBufferSize(bufSize);
    const rt = backdrop.rt;
    if (rt.width !== bufSize.x || rt.height !== bufSize.y) {
      rt.setSize(bufSize.x, bufSize.y); staticDirty = true;
    }
    if (staticDirty) {
      lod();
      renderer.setRenderTarget(rt); renderer.render(scene, camera); renderer.setRenderTarget(null);
      staticDirty = false; V.staticDraws = (V.staticDraws || 0) + 1;
    }
    renderer.autoClear = false;
    renderer.clear();
    renderer.render(backdrop.qs, backdrop.qc);
    renderer.render(live, camera);
    renderer.autoClear = true;
  }

  function setScale(x) {
    if (Math.abs(x - scale) < 1e-6) return;
    scale = x;
    renderer.setPixelRatio(FULL_RATIO * scale);
    resize();
  }

  function resize() {
    const r = canvas.parentElement.getBoundingClientRect();
    renderer.setSize(r.width, r.height, false);
    camera.aspect = r.width / Math.max(1, r.height);
    camera.updateProjectionMatrix();
    dirty = staticDirty = true;
  }

  function drawTicks() {
    const c = document.getElementById('ticks'), r = c.getBoundingClientRect();
    c.width = Math.max(1, Math.round(r.width)); c.height = Math.max(1, Math.round(r.height));
    const g = c.getContext('2d'), W = c.width, span = Math.max(D.t_end, 1e-9);
    // one strip per kind: a pixel column's opacity grows with how many fall in it, so an
    // hour of a supercenter's thousands of events reads as a density, not a solid bar
    const strip = (items, key, rgb, y0, y1) => {
      const n = new Float32Array(W);
      for (const e of items) n[Math.min(W - 1, Math.round(e[key] / span * (W - 1)))]++;
      const top = Math.max(1, ...n);
      for (let x = 0; x < W; x++) {
        if (!n[x]) continue;
        g.fillStyle = `rgba(${rgb},${(0.35 + 0.65 * Math.sqrt(n[x] / top)).toFixed(3)})`;
        g.fillRect(x, y0, 1, y1 - y0);
      }
    };
    strip(D.events, 't', '46,157,74', 0, 7);
    strip(D.billed, 't_start', '142,68,173', 21, 28);
    strip(D.switches, 't', '224,38,43', 8, 13);
  }

  // ---- hover ------------------------------------------------------------------------------
  const ray = new THREE.Raycaster(), mouse = new THREE.Vector2();
  function hover(ev) {
    const r = canvas.getBoundingClientRect(), tip = document.getElementById('tooltip');
    mouse.set(((ev.clientX - r.left) / r.width) * 2 - 1, -((ev.clientY - r.top) / r.height) * 2 + 1);
    ray.setFromCamera(mouse, camera);
    ray.params.Points.threshold = 0.5;
    const targets = [st.truthPeople.group, st.corePeople.group].filter((m) => m.visible);
    const hit = ray.intersectObjects(targets, true)[0];
    const k = hit ? (hit.instanceId ?? hit.index) : null;
    if (k == null) { tip.hidden = true; return; }
    const side = hit.object.parent === st.truthPeople.group ? st.truth : st.core;
    const s = side.active[side.drawn[k]];
    tip.textContent = Panels.describe(side.kind, side.d.seg_id[s], side.d.seg_account[s], t);
    tip.style.left = `${ev.clientX - r.left + 14}px`; tip.style.top = `${ev.clientY - r.top + 10}px`;
    tip.hidden = false;
  }

  function select(sel) {      // {shopper?, core?, bin?, t?, account?, sku?}
    selection = sel;
    if (sel && sel.t != null) { setTime(Math.max(0, sel.t - 1.5)); pause(); }
    if (sel && sel.bin != null && sel.bin >= 0) {
      const c = D.scene.bins.center;
      st.binMark.position.set(c[3 * sel.bin], c[3 * sel.bin + 1], c[3 * sel.bin + 2]);
      st.binMark.visible = true;
      // look at the bin from the aisle side, a few metres off, at the angle the user had
      const tgt = new THREE.Vector3(c[3 * sel.bin], c[3 * sel.bin + 1], 0);
      const dir = camera.position.clone().sub(st.controls.target).normalize();
      camera.position.copy(tgt).addScaledVector(dir, 9);
      st.controls.target.copy(tgt);
      st.controls.update();
    } else st.binMark.visible = false;
    dirty = true;
  }

  function play() { playing = true; if (t >= D.t_end) setTime(0); st.play.innerHTML = '&#10073;&#10073;'; }
  function pause() { playing = false; st.play.innerHTML = '&#9654;'; }

  // ---- start --------------------------------------------------------------------------------
  async function start() {
    await unpack(D);
    const S = D.scene, [x0, y0, x1, y1] = S.bounds;
    document.getElementById('title').textContent = `storetwin view · ${D.run}`;
    Panels.headline(D, document.getElementById('headline'));
    scene.add(buildStore(S));
    st.stock = buildStock(S); st.stock.forEach((m) => scene.add(m));
    st.showStock = true;
    const cams = buildCameras(S);
    scene.add(cams.frusta, cams.dots);
    const few = S.cameras.position.length / 3 <= 300;
    document.getElementById('show-frusta').checked = few;
    cams.frusta.visible = cams.dots.visible = few;
    const cov = buildCoverage(S.coverage);
    if (cov) { cov.visible = false; scene.add(cov); }
    st.truth = new Side(D.truth, D.qbounds, 'shopper');
    st.core = new Side(D.core, D.qbounds, 'core');
    // low-poly on purpose (32 triangles each): 600 shoppers and 600 tracks are drawn every
    // frame, and software renderers pay per vertex (a torus here cost 5x the frame rate)
    const body = new THREE.CylinderGeometry(0.22, 0.25, 1.7, 8).rotateX(Math.PI / 2);
    st.truthPeople = people(st.truth.n, body, 6);
    st.corePeople = people(st.core.n, new THREE.RingGeometry(0.3, 0.42, 16), 10);
    st.corePeople.mesh.material.side = THREE.DoubleSide;
    st.corePeople.dots.material.opacity = 0.8;
    live.add(st.corePeople.group, st.truthPeople.group);
    const bc = S.bins.center;
    const atBin = (b, lift) => (b >= 0 ? [bc[3 * b], bc[3 * b + 1], bc[3 * b + 2] + lift] : null);
    st.eventMesh = markerMesh(D.events, new THREE.ConeGeometry(0.09, 0.22, 8).rotateX(-Math.PI / 2),
                              (e) => ACTION_COLOURS[e.action], (e) => atBin(e.bin, 0.3));
    st.billedMesh = markerMesh(D.billed, new THREE.OctahedronGeometry(0.09),
                               () => BILLED_COLOUR, (e) => atBin(e.bin, 0.55));
    st.switchMesh = markerMesh(D.switches, new THREE.OctahedronGeometry(0.2),
                               () => SWITCH_COLOUR, (e) => [e.x, e.y, 2.2]);
    live.add(st.eventMesh, st.billedMesh, st.switchMesh);
    st.trail = new THREE.Line(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0x202020 }));
    st.trail.visible = false; live.add(st.trail);
    st.binMark = new THREE.Mesh(new THREE.SphereGeometry(0.28, 16, 12), new THREE.MeshBasicMaterial(
      { color: 0xffd400, transparent: true, opacity: 0.55, depthTest: false }));
    st.binMark.visible = false; st.binMark.renderOrder = 5; live.add(st.binMark);

    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, span = Math.max(x1 - x0, y1 - y0);
    camera.far = 20 * span + 100; camera.updateProjectionMatrix();
    st.controls = new THREE.OrbitControls(camera, canvas);
    const home = () => {            // the whole store, from the front, at an angle
      camera.position.set(cx, cy - 0.75 * span, 0.85 * span);
      st.controls.target.set(cx, cy, 0); st.controls.update(); dirty = staticDirty = true;
    };
    home();
    canvas.addEventListener('dblclick', home);
    st.controls.addEventListener('change', () => { dirty = staticDirty = true; });

    st.slider = document.getElementById('time');
    st.slider.max = String(D.t_end); st.slider.step = String(1 / D.hz);
    st.slider.addEventListener('input', () => { t = Number(st.slider.value); dirty = true; });
    st.clock = document.getElementById('clock');
    st.play = document.getElementById('play');
    st.play.addEventListener('click', () => (playing ? pause() : play()));
    document.getElementById('speed').addEventListener('change', (e) => { speed = Number(e.target.value); });
    const toggle = (id, f) => document.getElementById(id).addEventListener('change', (e) => { f(e.target.checked); dirty = true; });
    toggle('show-truth', (on) => { st.truthPeople.group.visible = on; });
    toggle('show-core', (on) => { st.corePeople.group.visible = on; });
    toggle('show-events', (on) => { st.eventMesh.visible = on; st.billedMesh.visible = on; });
    toggle('show-switches', (on) => { st.switchMesh.visible = on; });
    toggle('show-frusta', (on) => { cams.frusta.visible = cams.dots.visible = on; staticDirty = true; });
    toggle('show-coverage', (on) => { if (cov) cov.visible = on; staticDirty = true; });
    toggle('show-stock', (on) => { st.showStock = on; staticDirty = true; });
    document.getElementById('colour-by').addEventListener('change', (e) => { colourBy = e.target.value; dirty = true; });
    window.addEventListener('keydown', (e) => {
      if (e.code === 'Space' && e.target === document.body) { e.preventDefault(); playing ? pause() : play(); }
    });
    let pending = null;
    canvas.addEventListener('pointermove', (e) => { pending = e; });
    canvas.addEventListener('pointerleave', () => { pending = null; document.getElementById('tooltip').hidden = true; });
    window.addEventListener('resize', () => { resize(); drawTicks(); });
    Panels.init(D, { select, setTime, fmtTime });
    resize(); drawTicks();

    let last = performance.now(), count = 0, since = last;
    function frame(now) {
      requestAnimationFrame(frame);
      const dt = Math.min(0.25, (now - last) / 1000); last = now;
      if (playing) { setTime(t + dt * speed); if (t >= D.t_end) pause(); }
      if (pending) { hover(pending); pending = null; }
      if (!dirty && !playing && scale === 1) return;
      if (!playing && scale !== 1) setScale(1);      // still again: one sharp frame
      if (playing && scale === 1) setScale(playScale());
      updateDynamic(); showClock(now);
      draw();
      dirty = false; V.frames++; count++;
      if (now - since >= 1000) {
        V.fps = count * 1000 / (now - since); count = 0; since = now;
        slow = playing && V.fps < FPS_GOAL ? slow + 1 : 0;
        if (slow >= 2 && scale > MIN_SCALE) { setScale(Math.max(MIN_SCALE, scale * 0.8)); slow = 0; }
        document.getElementById('fps').textContent = `${V.fps.toFixed(0)} fps` +
          (scale < 1 ? ` · ${Math.round(100 * scale)} % res` : '');
      }
    }
    requestAnimationFrame(frame);
    Object.assign(V, {
      ready: true, loadMs: performance.now() - T0,
      setTime: (x) => { setTime(x); }, time: () => t, play, pause,
      setSpeed: (x) => { speed = x; },
      positionOf(kind, id) {           // where the page draws shopper / track id now, or null
        const side = kind === 'core' ? st.core : st.truth, f = t * D.hz, s = side.segOf(id, f);
        return s < 0 ? null : side.pos(s, f);
      },
      drawn: () => ({ truth: st.truth.count, core: st.core.count,
                      events: st.eventMesh.count, billed: st.billedMesh.count,
                      stockChunks: st.stock.filter((c) => c.visible).length }),
      someone() {                      // a shopper drawn now (tests hover one)
        return st.truth.count ? st.truth.d.seg_id[st.truth.active[0]] : null;
      },
      screenOf(kind, id) {             // client pixel of a shopper's body centre / a track
        const xy = V.positionOf(kind, id);
        if (!xy) return null;
        const v = new THREE.Vector3(xy[0], xy[1], kind === 'core' ? 0.04 : 0.85).project(camera);
        const r = canvas.getBoundingClientRect();
        return [r.left + (v.x + 1) / 2 * r.width, r.top + (1 - v.y) / 2 * r.height];
      },
      selectLine: (account, sku) => Panels.clickLine(account, sku),
      selection: () => selection,
      three: { scene, live, renderer, camera },
      scale: () => scale,
      home,
      view(x, y, z, tx, ty) { camera.position.set(x, y, z); st.controls.target.set(tx, ty, 0); st.controls.update(); dirty = staticDirty = true; },
    });
  }
  start().catch((e) => { V.errors.push(String(e && e.stack || e)); console.error(e); });
}());
