"""Compiled CPU kernel of the appearance descriptors (numba, ``@njit(cache=True)``): what
a camera sees of a shopper's clothes (:func:`appearance`, :mod:`twin.appearance` describes
the model), one call per frame. Its noise mixes the frame's standard normal draws (numpy,
the appearance stream) with draws keyed by (run, shopper, camera, floor cell) from a
counter-based hash (splitmix64), which repeat while a shopper stays in view from one place
and move no random stream.

Determinism: a frame's pairs are cut into a fixed number of blocks that numba runs on its
threads side by side; each pair's descriptor is its own work, in a fixed order, and the
cache of keyed draws is only read while they run (the views drawn afresh are kept after, in
pair order), so the same inputs give the same bytes in every process, whatever the number
of threads. Importing this module compiles nothing; the first call compiles or
loads numba's cache next to this file.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")
_parallel = njit(cache=True, error_model="numpy", parallel=True)
# a frame's pairs are cut into this many blocks for numba's threads, side by side; frames
# of fewer pairs run them on one thread (waking the others costs more: see
# twin._camera_kernels.THREADS_MIN_PAIRS)
PAIR_BLOCKS = 32
THREADS_MIN_PAIRS = 2000


@_inline
def _shade(nx, ny, nz, light):
    """Lambert light factor of a face with unit normal n (twin.lighting.Lighting.shade);
    light (9,): ambient, key, key direction (3), fill, fill direction (3)."""
    return (light[0] + light[1] * max(0.0, -(nx * light[2] + ny * light[3] + nz * light[4]))
            + light[5] * max(0.0, -(nx * light[6] + ny * light[7] + nz * light[8])))


@_inline
def _soft_add(r, g, b, w, protos, consts, out, o, d2):
    """Add ``w`` times the soft assignment of the sRGB colour (r, g, b) (clipped to 255) to
    the prototypes into out[o:o + BINS] (as twin.appearance.soft_assign); d2: scratch
    (BINS,)."""
    r, g, b = min(r, 255.0), min(g, 255.0), min(b, 255.0)
    s = r + g + b
    fr = r / s if s > 0.0 else 1.0 / 3.0
    fg = g / s if s > 0.0 else 1.0 / 3.0
    fv = consts[0] * math.log(s / 765.0 + consts[1])
    nb = protos.shape[0]
    lo = np.inf
    for j in range(nb):
        d2[j] = ((fr - protos[j, 0]) ** 2 + (fg - protos[j, 1]) ** 2
                 + (fv - protos[j, 2]) ** 2)
        lo = min(lo, d2[j])
    tot = 0.0
    inv = 1.0 / (2.0 * consts[2] * consts[2])
    for j in range(nb):
        e = (d2[j] - lo) * inv
        # (a weight under e^-25, 1e-11, is below a float32's resolution beside the nearest's 1)
        d2[j] = math.exp(-e) if e < 25.0 else 0.0
        tot += d2[j]
    for j in range(nb):
        out[o + j] += w * d2[j] / tot


@_inline
def _patch(k, x, y, z, w, lf, zone, area, shade):
    """Add a surface patch at (x, y, z) [m] of weight ``w`` [m^3, area times the cosine's
    numerator] and light factor ``lf`` to its zone's projected area and shade when it
    projects inside the image of the camera ``k`` (one row of :func:`appearance`'s cams);
    returns its image area [px^2] (0: behind the near plane)."""
    rx, ry, rz = x - k[0], y - k[1], z - k[2]
    zc = rx * k[9] + ry * k[10] + rz * k[11]
    if not zc > k[18]:
        return 0.0
    inv = 1.0 / zc
    a = k[12] * k[13] * w * inv * inv * inv
    u = k[12] * (rx * k[3] + ry * k[4] + rz * k[5]) * inv + k[14]
    v = k[13] * (rx * k[6] + ry * k[7] + rz * k[8]) * inv + k[15]
    if u >= 0.0 and u < k[16] and v >= 0.0 and v < k[17]:
        area[zone] += a
        shade[zone] += a * lf
    return a


@_inline
def _zone_view(cams, c, px, py, radius, height, cut1, cut2, n_az, turn, light, area, shade):
    """Projected image area [px^2] inside camera c's image and area-weighted light factor of
    each zone of a body cylinder at (px, py) [m]: area, shade (4,): legs, torso and head
    sides, then the top disc. Each side band is sampled at 2 heights per azimuth step, the
    disc at 5 points; turn: cos, sin of the azimuth step and of half of it. Returns the
    whole silhouette's area, the part off the image included."""
    for z in range(4):
        area[z] = 0.0
        shade[z] = 0.0
    k = cams[c]
    cx, cy, cz = k[0], k[1], k[2]
    cuts = (0.0, cut1 * height, cut2 * height, height)
    dphi = 2.0 * math.pi / n_az
    cd, sd, nx, ny = turn[0], turn[1], turn[2], turn[3]
    full = 0.0
    for _ in range(n_az):
        nx, ny = nx * cd - ny * sd, nx * sd + ny * cd      # the next azimuth's normal
        sx, sy = px + radius * nx, py + radius * ny
        facing = nx * (cx - sx) + ny * (cy - sy)
        if not facing > 0.0:
            continue
        lf = _shade(nx, ny, 0.0, light)
        for z in range(3):
            dz = 0.5 * (cuts[z + 1] - cuts[z])
            for h in range(2):
                zm = cuts[z] + (h + 0.5) * dz
                full += _patch(k, sx, sy, zm, radius * dphi * dz * facing, lf, z, area,
                               shade)
    if cz > height:
        lf = _shade(0.0, 0.0, 1.0, light)
        w = 0.2 * math.pi * radius * radius * (cz - height)
        full += _patch(k, px, py, height, w, lf, 3, area, shade)
        r7 = 0.7 * radius       # four more at 0.7 of the radius (5 points of equal area)
        full += _patch(k, px + r7, py, height, w, lf, 3, area, shade)
        full += _patch(k, px - r7, py, height, w, lf, 3, area, shade)
        full += _patch(k, px, py + r7, height, w, lf, 3, area, shade)
        full += _patch(k, px, py - r7, height, w, lf, 3, area, shade)
    for z in range(4):
        if area[z] > 0.0:
            shade[z] /= area[z]
    return full


@_inline
def _zone_histograms(j, albedo, area, shade, protos, consts, hist, scratch):
    """Each zone's soft colour histogram (normalised) into hist (3 BINS,) from the zone
    albedo of body j and its zones' areas and shades (:func:`_zone_view`)."""
    nb = protos.shape[0]
    for i in range(3 * nb):
        hist[i] = 0.0
    for z in range(3):
        faces = area[z] + (area[3] if z == 2 else 0.0)
        for part in range(2 if z == 2 else 1):
            zz = z + part      # the head's side (2), then its top disc (3)
            w = area[zz] / faces if faces > 0.0 else 1.0 - part
            if w > 0.0:
                lf = shade[zz] if area[zz] > 0.0 else 1.0
                _soft_add(albedo[j, z, 0] * lf, albedo[j, z, 1] * lf, albedo[j, z, 2] * lf, w,
                          protos, consts, hist, z * nb, scratch)


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)     # splitmix64's finaliser (Steele et al. 2014)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@_inline
def _mix(x):
    """splitmix64's finaliser of the uint64 x: a counter-based hash."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


@_inline
def _keyed_normal(h, i):
    """The i-th standard normal draw of the stream keyed by the uint64 h (Box-Muller on
    the two 32-bit halves of a hash of h and i)."""
    x = _mix(h + np.uint64(i + 1) * _GOLDEN)
    u1 = (float(x >> np.uint64(32)) + 0.5) * 2.3283064365386963e-10
    u2 = (float(x & np.uint64(0xFFFFFFFF)) + 0.5) * 2.3283064365386963e-10
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@_inline
def _view_key(key, shopper, cam, x, y, cell):
    """The uint64 key of shopper on camera cam standing in the floor cell of side cell [m]
    that holds (x, y) [m], under the run's key (2,) uint64."""
    h = _mix(key[0] ^ _mix(key[1] ^ np.uint64(shopper)))
    h = _mix(h ^ np.uint64(cam))
    h = _mix(h ^ np.uint64(np.int64(math.floor(x / cell)) & np.int64(0xFFFFFFFF)))
    return _mix(h ^ np.uint64(np.int64(math.floor(y / cell)) & np.int64(0xFFFFFFFF)))


@_inline
def _view_cell(shopper, cam, x, y, cell):
    """(shopper, camera, floor cell x, floor cell y) as int64: what a view's key hashes."""
    return (np.int64(shopper), np.int64(cam), np.int64(math.floor(x / cell)),
            np.int64(math.floor(y / cell)))


@_inline
def _persistent_draws(key, shopper, cam, x, y, cell, nd, cache_id, cache_draws, draw_out):
    """The nd keyed standard normal draws of a view (:func:`_view_key`) into draw_out: from
    the cache when it holds that view (cache_id (m, 4) int64 shopper, camera and floor cell
    of each slot, -1: empty; cache_draws (m, nd); m a power of two, 0: no cache), else
    drawn. Reads the cache only. Returns the view's slot when drawn afresh (for
    :func:`_keep_draws`), -1 when the cache held it or there is none. The draws are a
    function of the view alone, so a kept one is the same bits as one drawn again."""
    h = _view_key(key, shopper, cam, x, y, cell)
    m = cache_id.shape[0]
    slot = np.int64(-1)
    if m > 0:
        s0, c0, ix, iy = _view_cell(shopper, cam, x, y, cell)
        slot = np.int64(h & np.uint64(m - 1))
        if (cache_id[slot, 0] == s0 and cache_id[slot, 1] == c0 and cache_id[slot, 2] == ix
                and cache_id[slot, 3] == iy):
            for i in range(nd):
                draw_out[i] = cache_draws[slot, i]
            return np.int64(-1)
    for i in range(nd):
        draw_out[i] = _keyed_normal(h, i)
    return slot


@_jit
def _keep_draws(pair_c, pair_j, xy, ids, cell, slot, fresh, cache_id, cache_draws):
    """Keep in the cache the views drawn afresh this frame (slot (n,) int64 of each pair,
    -1: none; fresh (n, nd) their draws), in pair order (one thread: the next frame finds
    the same cache whatever the number of threads)."""
    for k in range(slot.shape[0]):
        q = slot[k]
        if q < 0:
            continue
        j = pair_j[k]
        s0, c0, ix, iy = _view_cell(ids[j], pair_c[k], xy[j, 0], xy[j, 1], cell)
        cache_id[q, 0], cache_id[q, 1], cache_id[q, 2], cache_id[q, 3] = s0, c0, ix, iy
        for i in range(fresh.shape[1]):
            cache_draws[q, i] = fresh[k, i]


@_jit
def appearance(pair_c, pair_j, vis, xy, albedo, cams, table, noise, ids, key, out,
               cache_id, cache_draws):
    """Appearance descriptors (twin.appearance) of seen camera-body pairs into out (n, D)
    float32: camera pair_c (n,), body pair_j (n,) at xy (s, 2) [m] with zone albedo
    (s, 3, 3) [0-255] (legs, torso, head), visible fraction vis (n,); noise (n, 3 + D)
    standard normal draws of this frame, the zones' shares' then the histograms' (zeros:
    the noise-free descriptor). ids (s,) int64 each body's shopper id and key (2,) uint64
    the run's key: each draw is sqrt(1 - rho) times the frame's plus sqrt(rho) times one
    keyed by (key, shopper, camera, floor cell), the same every frame the shopper stays in
    that cell (rho: the model's persistent_share); key of size 0: the frame's draws only.
    cache_id, cache_draws: the keyed draws of views seen before, under this key
    (:func:`_persistent_draws`; size 0: none): read while the pairs' blocks run side by
    side, the views drawn afresh kept after (:func:`_keep_draws`).

    cams (c, 19): each camera's centre [m], its x, y and z (optical) axes in the world
    (3 each), fx, fy, cx, cy, width, height [px] and the near plane [m].
    table: near [m], body radius and height [m], azimuth steps of the side; kappa legs,
    torso, head, sigma_zone0, sigma_zone_hidden, sigma_colour, persistent_share, view_cell_m;
    BRIGHTNESS_W, V_EPS, TAU, HIP, SHOULDER; the lights (9,); then the prototypes' features
    (BINS, 3), row by row (``twin.appearance.kernel_table``)."""
    n = pair_c.shape[0]
    keyed = key.shape[0] == 2
    slot = np.full(n, -1, np.int64)
    fresh = np.empty((n if keyed and cache_id.shape[0] else 0, noise.shape[1]))
    n_blk = min(n, PAIR_BLOCKS)
    args = (pair_c, pair_j, vis, xy, albedo, cams, table, noise, ids, key, out, cache_id,
            cache_draws, slot, fresh)
    if n >= THREADS_MIN_PAIRS:
        _blocks_threaded(n_blk, args)
    else:
        for bk in range(n_blk):
            _pair_block(bk * n // n_blk, (bk + 1) * n // n_blk, *args)
    if fresh.shape[0]:
        _keep_draws(pair_c, pair_j, xy, ids, table[11], slot, fresh, cache_id, cache_draws)


@_parallel
def _blocks_threaded(n_blk, args):
    """:func:`appearance`'s blocks of pairs on numba's threads (args: :func:`_pair_block`'s
    after its pair range). Only this loop is compiled parallel (numba would otherwise
    spread the kernel's array set-ups over the threads, waking them on every small frame)."""
    n = args[0].shape[0]
    for bk in prange(n_blk):
        _pair_block(bk * n // n_blk, (bk + 1) * n // n_blk, *args)


@_jit
def _pair_block(k0, k1, pair_c, pair_j, vis, xy, albedo, cams, table, noise, ids, key, out,
                cache_id, cache_draws, slot, fresh):
    """:func:`appearance` of pairs k0 .. k1 - 1 into out, with scratch of its own; the
    views drawn afresh get their slot in ``slot`` and their draws in ``fresh`` (when it has
    rows)."""
    radius, height, n_az = table[1], table[2], int(table[3])
    params = table[4:12]
    consts = table[12:17]
    light = table[17:26]
    protos = table[26:].reshape(-1, 3)
    nb = protos.shape[0]
    area = np.empty(4)
    shade = np.empty(4)
    hist = np.empty(3 * nb)
    scratch = np.empty(nb)
    keep = np.empty(3)
    draw = np.empty(noise.shape[1])
    kept = np.empty(noise.shape[1])
    keyed = key.shape[0] == 2
    w_frame = math.sqrt(1.0 - params[6]) if keyed else 1.0
    w_view = math.sqrt(params[6]) if keyed else 0.0
    dphi = 2.0 * math.pi / n_az
    turn = np.array([math.cos(dphi), math.sin(dphi), math.cos(0.5 * dphi),
                     math.sin(0.5 * dphi)])
    for k in range(k0, k1):
        j = pair_j[k]
        if keyed:
            slot[k] = _persistent_draws(key, ids[j], pair_c[k], xy[j, 0], xy[j, 1],
                                        params[7], draw.shape[0], cache_id, cache_draws, kept)
            if slot[k] >= 0 and fresh.shape[0]:
                for i in range(draw.shape[0]):
                    fresh[k, i] = kept[i]
            for i in range(draw.shape[0]):
                draw[i] = w_frame * noise[k, i] + w_view * kept[i]
        else:
            for i in range(draw.shape[0]):
                draw[i] = noise[k, i]
        full = _zone_view(cams, pair_c[k], xy[j, 0], xy[j, 1], radius, height, consts[3],
                          consts[4], n_az, turn, light, area, shade)
        # the share hidden by fixtures and people, of the part inside the image
        inside = area[0] + area[1] + area[2] + area[3]
        v = min(max(vis[k] * full / inside if inside > 0.0 else 1.0, 1e-6), 1.0)
        sz = params[3] + params[4] * (1.0 - vis[k])      # the zones' shares' log-noise
        keep[0] = area[0] * v ** params[0] * math.exp(sz * draw[0])
        keep[1] = area[1] * v ** params[1] * math.exp(sz * draw[1])
        keep[2] = (area[2] + area[3]) * v ** params[2] * math.exp(sz * draw[2])
        tot = keep[0] + keep[1] + keep[2]
        _zone_histograms(j, albedo, area, shade, protos, consts, hist, scratch)
        for z in range(3):
            share = keep[z] / tot if tot > 0.0 else 1.0 / 3.0
            s = 0.0
            for i in range(z * nb, (z + 1) * nb):
                hist[i] = max(hist[i] + params[5] * draw[3 + i], 0.0)
                s += hist[i]
            for i in range(z * nb, (z + 1) * nb):
                out[k, i] = share * (hist[i] / s if s > 0.0 else 1.0 / nb)
