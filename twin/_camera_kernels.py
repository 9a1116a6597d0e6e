"""Compiled CPU engine of the camera detection model's visible fraction (numba,
``@njit(cache=True)``).

:func:`visibility` computes one camera frame's visible fractions (:mod:`twin.cameras`,
"How the visible fraction is computed") in one call: per camera, the image boxes of the
bodies it may see, the surface samples of every body whose box overlaps the image, the
other bodies that may stand across its lines of sight (analytic cylinders), and the fixture
and wall prisms its corridor may cross. The steps and tests are those of the array
formulation it replaced (same samples, same candidate pairs, same occluder tests), pair by
pair; results differ from it by float64 rounding only (~1e-15 on the visible fraction).
A body wholly inside the picture with nothing in its corridor gets exactly 1, which is
what sampling it gives. :func:`samples` gives the samples themselves,
:func:`twin._cull_kernels.cull_lists` the bodies each camera considers in a large store
(:mod:`twin.culling`). The rest of a frame
(single sight lines, hands, detections) is :mod:`twin._detect_kernels`.

Occluders are convex vertical prisms (fixture boxes, interior wall pieces): a plan polygon
of 4 corners given as 4 half-planes ``n . p <= off`` and a z range. A sight line is blocked
when its first surface hit lies more than 1 mm before the target, as a ray cast against the
prisms' triangle mesh (nearest hit) would say, in exact float64 instead of a ray tracer's
float32 (``tests/twin/test_cameras.py`` checks the two agree).

Determinism: :func:`visibility` runs a fixed set of blocks of cameras on numba's threads;
each camera's work is its own, in a fixed order, sums included: the same inputs give the
same bytes in every process, whatever the number of threads. Importing this module compiles
nothing; the first call compiles (~15 s once) or loads numba's cache next to it (~0.5 s).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

HIT_SLACK_M = 1e-3   # a surface hit this close before the target does not block it [m]

# error_model="numpy": a float division by zero gives inf/nan, not an exception: the
# per-sample loops carry no branches and compile to SIMD
_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")
_parallel = njit(cache=True, error_model="numpy", parallel=True)
CAMERA_BLOCKS = 32   # blocks of cameras for numba's threads (a few a thread even out work)
# frames that consider fewer camera-body pairs run on one thread: waking the others costs
# more (kiosk, ~50 pairs a frame: 74x real time against 51x; supercenter ~20,000 pairs)
THREADS_MIN_PAIRS = 2000


@_jit
def _may_block(cx, cy, cz, jx, jy, kx, ky, radius, height):
    """Whether body k (a disc of ``radius``, grown by ``radius``) may lie across a sight
    line from the camera (cx, cy, cz) to body j (as ``CameraSystem._may_block``)."""
    dx = jx - cx
    dy = jy - cy
    fx = cx - kx
    fy = cy - ky
    a = dx * dx + dy * dy
    b = 2.0 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - (2.0 * radius) ** 2
    disc = b * b - 4.0 * a * c
    ok = disc > 0.0
    sq = math.sqrt(disc) if ok else 0.0
    a2 = 2.0 * a if a > 1e-12 else 1.0
    t_in = max((-b - sq) / a2, 0.0)
    t_out = min((-b + sq) / a2, 1.0)
    inside = c <= 0.0
    if inside:
        t_in = 0.0
        t_out = max(t_out, 0.0)
    return (ok or inside) and t_in <= t_out and cz * (1.0 - t_out) <= height


@_jit
def _near_boxes(cx, cy, cz, px, py, grown, ids, b0, b1, out):
    """The occluder boxes ``ids[b0:b1]`` that some sight line from the camera (cx, cy, cz)
    to the body standing at (px, py) [m] may cross, into ``out``; returns their number.

    grown (n, 5) [m]: each box's plan footprint grown by the body radius (xlo, ylo, xhi,
    yhi) and its top. The sight line to a body point at fraction t of its length lies within
    t * radius of the line to the body axis in plan, and no lower than cz * (1 - t); a box
    is out of reach when the axis line never meets its grown footprint, or only where every
    sight line is still above its top (as ``CameraSystem._corridor_may_hit_box``)."""
    dx = px - cx
    dy = py - cy
    flat_x = abs(dx) < 1e-12
    flat_y = abs(dy) < 1e-12
    ix = 0.0 if flat_x else 1.0 / dx
    iy = 0.0 if flat_y else 1.0 / dy
    m = 0
    for q in range(b0, b1):
        x0, y0, x1, y1, top = grown[q, 0], grown[q, 1], grown[q, 2], grown[q, 3], grown[q, 4]
        ax = (x0 - cx) * ix
        bx = (x1 - cx) * ix
        ay = (y0 - cy) * iy
        by = (y1 - cy) * iy
        in_x = (cx >= x0) & (cx <= x1)
        in_y = (cy >= y0) & (cy <= y1)
        lo_x = (-np.inf if in_x else np.inf) if flat_x else min(ax, bx)
        hi_x = (np.inf if in_x else -np.inf) if flat_x else max(ax, bx)
        lo_y = (-np.inf if in_y else np.inf) if flat_y else min(ay, by)
        hi_y = (np.inf if in_y else -np.inf) if flat_y else max(ay, by)
        t_in = max(max(lo_x, lo_y), 0.0)
        t_out = min(min(hi_x, hi_y), 1.0)
        out[m] = ids[q]
        m += (t_in <= t_out) & (cz * (1.0 - t_out) <= top)
    return m


@_jit
def _image_box(c, px, py, cam_pos, cam_rot, intr, res, outline_cam, near, box):
    """Image bounding box of the body at (px, py) in camera c into box (4,) umin, vmin,
    umax, vmax [px] (infinite when it crosses the near plane). Returns (any point in
    front of the near plane, the box overlaps the image)."""
    dx = px - cam_pos[c, 0]
    dy = py - cam_pos[c, 1]
    dz = -cam_pos[c, 2]
    bx = dx * cam_rot[c, 0, 0] + dy * cam_rot[c, 1, 0] + dz * cam_rot[c, 2, 0]
    by = dx * cam_rot[c, 0, 1] + dy * cam_rot[c, 1, 1] + dz * cam_rot[c, 2, 1]
    bz = dx * cam_rot[c, 0, 2] + dy * cam_rot[c, 1, 2] + dz * cam_rot[c, 2, 2]
    fx, fy = intr[c, 0], intr[c, 1]
    u0 = v0 = np.inf
    u1 = v1 = -np.inf
    nfront = 0
    npt = outline_cam.shape[1]
    for i in range(npt):
        z = bz + outline_cam[c, i, 2]
        f = z > near
        nfront += f
        iz = 1.0 / z
        u = fx * (bx + outline_cam[c, i, 0]) * iz
        v = fy * (by + outline_cam[c, i, 1]) * iz
        u0 = u if f and u < u0 else u0
        u1 = u if f and u > u1 else u1
        v0 = v if f and v < v0 else v0
        v1 = v if f and v > v1 else v1
    if nfront < npt:
        box[0] = -np.inf
        box[1] = -np.inf
        box[2] = np.inf
        box[3] = np.inf
    else:
        box[0] = u0 + intr[c, 2]
        box[1] = v0 + intr[c, 3]
        box[2] = u1 + intr[c, 2]
        box[3] = v1 + intr[c, 3]
    anyf = nfront > 0
    over = (anyf and box[0] < res[c, 0] and box[2] >= 0.0 and box[1] < res[c, 1]
            and box[3] >= 0.0)
    return anyf, over


@_inline
def _pair_frame(c, px, py, cam_pos, radius):
    """The body at (px, py) [m] as camera c sees it: rho its plan distance [m], (e0, e1)
    the unit plan direction towards the camera, sinmax the sine of the half-angle of the
    camera-facing half of its side."""
    ddx = cam_pos[c, 0] - px
    ddy = cam_pos[c, 1] - py
    rho = math.hypot(ddx, ddy)
    if rho > 1e-12:
        e0, e1 = ddx / rho, ddy / rho
    else:
        e0, e1 = 1.0, 0.0
    q = min(max(radius / max(rho, 1e-12), 0.0), 1.0)
    return rho, e0, e1, math.sqrt(1.0 - q * q)


@_jit
def _pair_samples(c, px, py, cam_pos, cam_rot, intr, res, s_side, z_side, top_off,
                  radius, height, near, area, inimg, rcs, rss):
    """Camera-facing surface samples of the body at (px, py) [m] seen by camera c: the
    image area of each sample's patch into area (k,) [px^2] and whether it projects into
    the image into inimg (k,) (k = side + top); the side samples' offsets along and across
    the direction to the camera into rcs, rss (side,) [m] (for :func:`_sample_sight`)."""
    cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
    rho, e0, e1, sinmax = _pair_frame(c, px, py, cam_pos, radius)
    ep0, ep1 = -e1, e0
    n = s_side.shape[0]
    nt = top_off.shape[0]
    fx, fy, ox, oy = intr[c, 0], intr[c, 1], intr[c, 2], intr[c, 3]
    ffxy = fx * fy
    w, h = res[c, 0], res[c, 1]
    dx, dy, dz = px - cx, py - cy, -cz
    r00, r01, r02 = cam_rot[c, 0, 0], cam_rot[c, 0, 1], cam_rot[c, 0, 2]
    r10, r11, r12 = cam_rot[c, 1, 0], cam_rot[c, 1, 1], cam_rot[c, 1, 2]
    r20, r21, r22 = cam_rot[c, 2, 0], cam_rot[c, 2, 1], cam_rot[c, 2, 2]
    b0 = dx * r00 + dy * r10 + dz * r20
    b1 = dx * r01 + dy * r11 + dz * r21
    b2 = dx * r02 + dy * r12 + dz * r22
    ue0, ue1, ue2 = e0 * r00 + e1 * r10, e0 * r01 + e1 * r11, e0 * r02 + e1 * r12
    up0, up1, up2 = ep0 * r00 + ep1 * r10, ep0 * r01 + ep1 * r11, ep0 * r02 + ep1 * r12
    # patch area r dphi dz, dphi = 2 sinmax / cos(phi) / n per unit of dz / height, times
    # n . (C - X) = rho cos(phi) - r, over depth^3
    side_k = ffxy * (2.0 * radius * height / n) * sinmax
    for i in range(n):
        sphi = s_side[i] * sinmax
        cphi = math.sqrt(1.0 - sphi * sphi)
        rc = radius * cphi
        rs = radius * sphi
        rcs[i] = rc
        rss[i] = rs
        zz = z_side[i]
        x = b0 + rc * ue0 + rs * up0 + zz * r20
        y = b1 + rc * ue1 + rs * up1 + zz * r21
        z = b2 + rc * ue2 + rs * up2 + zz * r22
        zs = max(z, near)
        area[i] = side_k * max(rho * cphi - radius, 0.0) / (cphi * (zs * zs * zs))
        fxx = fx * x
        fyy = fy * y
        inimg[i] = ((z > near) & (fxx >= -ox * zs) & (fxx < (w - ox) * zs)
                    & (fyy >= -oy * zs) & (fyy < (h - oy) * zs))
    top_num = ffxy * (math.pi * radius * radius / nt * max(cz - height, 0.0))
    hb0, hb1, hb2 = b0 + height * r20, b1 + height * r21, b2 + height * r22
    for t in range(nt):
        i = n + t
        tx, ty = top_off[t, 0], top_off[t, 1]
        x = hb0 + tx * r00 + ty * r10
        y = hb1 + tx * r01 + ty * r11
        z = hb2 + tx * r02 + ty * r12
        zs = max(z, near)
        area[i] = top_num / (zs * zs * zs)
        fxx = fx * x
        fyy = fy * y
        inimg[i] = ((z > near) & (fxx >= -ox * zs) & (fxx < (w - ox) * zs)
                    & (fyy >= -oy * zs) & (fyy < (h - oy) * zs))


@_jit
def _sample_sight(c, px, py, cam_pos, z_side, top_off, radius, height, rcs, rss, ddx, ddy,
                  ddz):
    """The sight lines from camera c to the samples of :func:`_pair_samples` (given its
    rcs, rss) of the body at (px, py): sample minus camera position into ddx, ddy, ddz (k,)
    [m]."""
    cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
    _rho, e0, e1, _sinmax = _pair_frame(c, px, py, cam_pos, radius)
    ep0, ep1 = -e1, e0
    n = z_side.shape[0]
    for i in range(n):
        ddx[i] = (px + rcs[i] * e0 + rss[i] * ep0) - cx
        ddy[i] = (py + rcs[i] * e1 + rss[i] * ep1) - cy
        ddz[i] = z_side[i] - cz
    for t in range(top_off.shape[0]):
        ddx[n + t] = (px + top_off[t, 0]) - cx
        ddy[n + t] = (py + top_off[t, 1]) - cy
        ddz[n + t] = height - cz


@_jit
def samples(ci, pxy, cam_pos, cam_rot, intr, res, s_side, z_side, top_off, radius, height,
            near):
    """:func:`_pair_samples` of the pairs (camera ci (p,), body at pxy (p, 2) [m]): area
    (p, k) [px^2], in_image (p, k) bool, world positions (p, k, 3) [m]."""
    p = ci.shape[0]
    n = s_side.shape[0]
    k = n + top_off.shape[0]
    area = np.empty((p, k))
    inimg = np.empty((p, k), dtype=np.bool_)
    wpt = np.empty((p, k, 3))
    rcs = np.empty(n)
    rss = np.empty(n)
    dd = np.empty((3, k))
    for i in range(p):
        c = ci[i]
        _pair_samples(c, pxy[i, 0], pxy[i, 1], cam_pos, cam_rot, intr, res, s_side, z_side,
                      top_off, radius, height, near, area[i], inimg[i], rcs, rss)
        _sample_sight(c, pxy[i, 0], pxy[i, 1], cam_pos, z_side, top_off, radius, height, rcs,
                      rss, dd[0], dd[1], dd[2])
        for q in range(k):
            for a in range(3):
                wpt[i, q, a] = dd[a, q] + cam_pos[c, a]
    return area, inimg, wpt


@_inline
def _cut(t0, t1, ok, num, den):
    """One constraint den t <= num on the ray interval (t0, t1) (``ok``: not cut away
    entirely yet), branch-free."""
    t = num / den
    t0 = t if den < 0.0 and t > t0 else t0
    t1 = t if den > 0.0 and t < t1 else t1
    return t0, t1, ok & ((den != 0.0) | (num >= 0.0))


@_jit
def _hide_by_body(ddx, ddy, ddz, aa, cx, cy, cz, kx, ky, radius, height, hidden):
    """Mark hidden the samples whose sight line from the camera (cx, cy, cz), (ddx, ddy,
    ddz) (k,) long with squared plan length aa (k,), crosses the body cylinder at (kx, ky)
    (as :func:`twin._detect_kernels._cylinder_hit`, sample by sample without branches)."""
    fx = cx - kx
    fy = cy - ky
    c = fx * fx + fy * fy - radius * radius
    for i in range(hidden.shape[0]):
        a = aa[i]
        b = 2.0 * (fx * ddx[i] + fy * ddy[i])
        disc = b * b - 4.0 * a * c
        ok = (disc > 0.0) & (a > 1e-12)
        sq = math.sqrt(disc if ok else 0.0)
        a2 = 2.0 * a if a > 1e-12 else 1.0
        s1 = (-b - sq) / a2
        s1 = min(max(s1, 0.0), 1.0)
        s2 = (-b + sq) / a2
        s2 = min(max(s2, 0.0), 1.0)
        z1 = cz + s1 * ddz[i]
        z2 = cz + s2 * ddz[i]
        hidden[i] |= ok & (s2 > s1) & (min(z1, z2) < height) & (max(z1, z2) > 0.0)


@_jit
def _hide_by_prism(ddx, ddy, ddz, lim, cx, cy, cz, prisms, b, hidden):
    """Mark hidden the samples whose sight line from the camera (cx, cy, cz), (ddx, ddy,
    ddz) (k,) long, first hits prism b before parameter lim (k,) (as
    :func:`twin._detect_kernels._first_hit`, sample by sample without branches)."""
    zn0 = cz - prisms[b, 12]
    zn1 = prisms[b, 13] - cz
    ax, ay, am = prisms[b, 0], prisms[b, 1], prisms[b, 2] - (prisms[b, 0] * cx + prisms[b, 1] * cy)
    bx, by, bm = prisms[b, 3], prisms[b, 4], prisms[b, 5] - (prisms[b, 3] * cx + prisms[b, 4] * cy)
    qx, qy, qm = prisms[b, 6], prisms[b, 7], prisms[b, 8] - (prisms[b, 6] * cx + prisms[b, 7] * cy)
    ex, ey, em = prisms[b, 9], prisms[b, 10], prisms[b, 11] - (prisms[b, 9] * cx + prisms[b, 10] * cy)
    for i in range(hidden.shape[0]):
        dx, dy, dz = ddx[i], ddy[i], ddz[i]
        t0, t1, ok = _cut(-np.inf, np.inf, True, zn0, -dz)
        t0, t1, ok = _cut(t0, t1, ok, zn1, dz)
        t0, t1, ok = _cut(t0, t1, ok, am, ax * dx + ay * dy)
        t0, t1, ok = _cut(t0, t1, ok, bm, bx * dx + by * dy)
        t0, t1, ok = _cut(t0, t1, ok, qm, qx * dx + qy * dy)
        t0, t1, ok = _cut(t0, t1, ok, em, ex * dx + ey * dy)
        first = t0 if t0 >= 0.0 else t1
        hidden[i] |= ok & (t0 <= t1) & (t1 >= 0.0) & (first < lim[i])


@_inline
def _sums(area, hidden):
    """(sum of area, sum of area where not hidden), in four interleaved partial sums (a
    fixed order, so the same bits every time; four chains run in parallel)."""
    t0 = t1 = t2 = t3 = 0.0
    v0 = v1 = v2 = v3 = 0.0
    n = area.shape[0]
    n4 = n - n % 4
    for i in range(0, n4, 4):
        t0 += area[i]
        t1 += area[i + 1]
        t2 += area[i + 2]
        t3 += area[i + 3]
        v0 += 0.0 if hidden[i] else area[i]
        v1 += 0.0 if hidden[i + 1] else area[i + 1]
        v2 += 0.0 if hidden[i + 2] else area[i + 2]
        v3 += 0.0 if hidden[i + 3] else area[i + 3]
    for i in range(n4, n):
        t0 += area[i]
        v0 += 0.0 if hidden[i] else area[i]
    return (t0 + t1) + (t2 + t3), (v0 + v1) + (v2 + v3)


@_jit
def _all_inside(xy, bounds):
    """Whether every body of xy (s, 2) [m] stands inside ``bounds`` (4,) xlo, ylo, xhi,
    yhi [m]."""
    inside = True
    for p in range(xy.shape[0]):
        if not (xy[p, 0] >= bounds[0] and xy[p, 0] <= bounds[2] and xy[p, 1] >= bounds[1]
                and xy[p, 1] <= bounds[3]):
            inside = False
    return inside


@_jit
def _camera_bodies(c, xy, dense, use_ext, ext, list_start, list_body, lst):
    """The bodies camera c considers, into lst; returns their number: with ``dense`` every
    body (with ``use_ext`` only those inside its plan box ``ext[c]``), else its list from
    :func:`twin._cull_kernels.cull_lists`."""
    n_l = 0
    if dense:
        for p in range(xy.shape[0]):
            if use_ext and not (xy[p, 0] >= ext[c, 0] and xy[p, 0] <= ext[c, 2]
                                and xy[p, 1] >= ext[c, 1] and xy[p, 1] <= ext[c, 3]):
                continue
            lst[n_l] = p
            n_l += 1
    else:
        for li in range(list_start[c], list_start[c + 1]):
            lst[n_l] = list_body[li]
            n_l += 1
    return n_l


@_jit
def _body_blockers(lj, n_l, lst, anyf, boxes, xy, cx, cy, cz, radius, height, blockers):
    """The bodies ``lst[:n_l]`` that may stand across a sight line from the camera (cx, cy,
    cz) to body ``lst[lj]``: in front of the camera (anyf), their image box (boxes) overlapping
    its own, and :func:`_may_block`. Into blockers; returns their number."""
    j = lst[lj]
    jx, jy = xy[j, 0], xy[j, 1]
    n_bk = 0
    bj0, bj1, bj2, bj3 = boxes[lj, 0], boxes[lj, 1], boxes[lj, 2], boxes[lj, 3]
    for lk in range(n_l):
        if lk == lj or not anyf[lk]:
            continue
        if not (bj0 <= boxes[lk, 2] and boxes[lk, 0] <= bj2 and bj1 <= boxes[lk, 3]
                and boxes[lk, 1] <= bj3):
            continue
        k = lst[lk]
        if _may_block(cx, cy, cz, jx, jy, xy[k, 0], xy[k, 1], radius, height):
            blockers[n_bk] = k
            n_bk += 1
    return n_bk


@_jit
def _sample_scratch(n_side, k_n):
    """The per-sample work arrays of :func:`_sampled_fraction`: area, inimg, hidden (k,),
    rcs, rss (side,), ddx, ddy, ddz, aa, lim (k,)."""
    return (np.empty(k_n), np.empty(k_n, dtype=np.bool_), np.empty(k_n, dtype=np.bool_),
            np.empty(n_side), np.empty(n_side), np.empty(k_n), np.empty(k_n), np.empty(k_n),
            np.empty(k_n), np.empty(k_n))


@_jit
def _sampled_fraction(c, jx, jy, cam_pos, cam_rot, intr, res, s_side, z_side, top_off,
                      radius, height, near, xy, blockers, n_bk, prisms, near_boxes, m,
                      scratch):
    """The visible fraction of the body at (jx, jy) [m] in camera c, from its surface
    samples: a sample is hidden outside the image, behind a body of ``blockers[:n_bk]`` or
    behind a prism of ``near_boxes[:m]``. Returns (fraction, sight lines tested against the
    prisms); scratch: :func:`_sample_scratch`."""
    area, inimg, hidden, rcs, rss, ddx, ddy, ddz, aa, lim = scratch
    k_n = area.shape[0]
    cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
    rays = 0
    _pair_samples(c, jx, jy, cam_pos, cam_rot, intr, res, s_side, z_side, top_off,
                  radius, height, near, area, inimg, rcs, rss)
    for i in range(k_n):
        hidden[i] = not inimg[i]
    if n_bk or m:
        _sample_sight(c, jx, jy, cam_pos, z_side, top_off, radius, height, rcs, rss,
                      ddx, ddy, ddz)
        for i in range(k_n):
            aa[i] = ddx[i] * ddx[i] + ddy[i] * ddy[i]
    for q in range(n_bk):
        k = blockers[q]
        _hide_by_body(ddx, ddy, ddz, aa, cx, cy, cz, xy[k, 0], xy[k, 1], radius, height,
                      hidden)
    if m:
        for i in range(k_n):
            rays += (not hidden[i]) & (area[i] > 0.0)
            length = math.sqrt(aa[i] + ddz[i] * ddz[i])
            lim[i] = (length - HIT_SLACK_M) / length
        for q in range(m):
            _hide_by_prism(ddx, ddy, ddz, lim, cx, cy, cz, prisms, near_boxes[q], hidden)
    total, seen = _sums(area, hidden)
    v = seen / total if total > 0.0 else 0.0
    return v, rays


@_inline
def _wholly_seen(box, w, h, cx, cy, cz, jx, jy, radius, height):
    """Whether the body at (jx, jy) is wholly inside the picture of the camera at (cx, cy,
    cz) (its image box ``box`` 1 px inside the w x h image) and not around the camera."""
    return (box[0] >= 1.0 and box[1] >= 1.0 and box[2] <= w - 1.0 and box[3] <= h - 1.0
            and (cz > height or math.hypot(cx - jx, cy - jy) > radius * (1.0 + 1e-6)))


@_inline
def _record(c, j, v, visible, dense_out, pair_c, pair_j, pair_v, n_pairs):
    """Write the visible fraction v of body j in camera c: into visible when ``dense_out``,
    and as pair n_pairs when seen at all; returns the new number of pairs."""
    if dense_out:
        visible[c, j] = v
    if v > 0.0:
        pair_c[n_pairs] = c
        pair_j[n_pairs] = j
        pair_v[n_pairs] = v
        n_pairs += 1
    return n_pairs


@_jit
def visibility(xy, live, cam_pos, cam_rot, intr, res, outline_cam, s_side, z_side, top_off,
               radius, height, near, ext, bounds, list_start, list_body, box_start, box_list,
               box_grown, all_grown, prisms, visible, pair_c, pair_j, pair_v):
    """Visible fraction of every body in every live camera into visible (c, s) (elsewhere
    left as is: the caller zeroes it; (0, 0): not written) and, for the pairs seen at all
    (fraction > 0), into pair_c, pair_j (int64), pair_v (float64) in (camera, body) order
    (capacity: every pair considered, ``len(list_body)`` or c * s). Returns the sight lines
    tested against the occluders and the number of pairs written.

    xy (s, 2) [m] bodies; live (c,) bool; cameras as ``core.knowledge.Cameras`` (float64);
    outline_cam (c, 16, 3) the body outline in each camera's frame [m]; s_side, z_side (n,),
    top_off (t, 2): the unit sample layout. list_start (c + 1,), list_body: each camera's
    bodies (:func:`twin._cull_kernels.cull_lists`; empty list_start: every body in the
    camera's plan box ``ext`` (c, 4) xlo, ylo, xhi, yhi [m], or all when one stands outside
    ``bounds`` (4,) [m]). box_start (c + 1,), box_list: the occluders each camera's corridors
    may cross from its plan box (empty box_start: all), box_grown (len(box_list), 5) and
    all_grown (b, 5) their and every occluder's footprint grown (:func:`_near_boxes`) [m];
    prisms (b, 14) (``CameraSystem._prisms``): the occluders."""
    c_n, s = cam_pos.shape[0], xy.shape[0]
    dense = list_start.shape[0] == 0
    use_ext = dense and ext.shape[0] == c_n and _all_inside(xy, bounds)
    # each camera writes its pairs at its own offset (its share of the capacity), blocks of
    # cameras side by side; then the pairs close up in camera order (the same whatever the
    # number of threads)
    off = np.empty(c_n + 1, np.int64)
    for c in range(c_n + 1):
        off[c] = c * s if dense else list_start[c]
    cnt = np.zeros(c_n, np.int64)
    n_blk = min(c_n, CAMERA_BLOCKS)
    rays_blk = np.zeros(n_blk, np.int64)
    args = (xy, live, cam_pos, cam_rot, intr, res, outline_cam, s_side, z_side, top_off,
            radius, height, near, ext, use_ext, list_start, list_body, box_start, box_list,
            box_grown, all_grown, prisms, visible, pair_c, pair_j, pair_v, off, cnt)
    if pair_c.shape[0] >= THREADS_MIN_PAIRS:
        _blocks_threaded(rays_blk, args)
    else:
        for bk in range(n_blk):
            rays_blk[bk] = _camera_block(bk * c_n // n_blk, (bk + 1) * c_n // n_blk, *args)
    n_pairs = 0
    for c in range(c_n):
        for i in range(off[c], off[c] + cnt[c]):
            pair_c[n_pairs], pair_j[n_pairs], pair_v[n_pairs] = pair_c[i], pair_j[i], pair_v[i]
            n_pairs += 1
    return rays_blk.sum(), n_pairs


@_parallel
def _blocks_threaded(rays_blk, args):
    """:func:`visibility`'s blocks of cameras on numba's threads (rays_blk (n_blk,): each
    block's sight lines; args: :func:`_camera_block`'s after its camera range). Only this
    loop is compiled parallel (else numba spreads the set-ups too, waking the threads)."""
    n_blk = rays_blk.shape[0]
    c_n = args[2].shape[0]
    for bk in prange(n_blk):
        rays_blk[bk] = _camera_block(bk * c_n // n_blk, (bk + 1) * c_n // n_blk, *args)


@_jit
def _camera_block(c0, c1, xy, live, cam_pos, cam_rot, intr, res, outline_cam, s_side,
                  z_side, top_off, radius, height, near, ext, use_ext, list_start, list_body,
                  box_start, box_list, box_grown, all_grown, prisms, visible, pair_c, pair_j,
                  pair_v, off, cnt):
    """:func:`visibility` of cameras c0 .. c1 - 1: each camera's seen pairs at its offset
    ``off[c]`` of pair_c, pair_j, pair_v (by body), their number in ``cnt[c]``, fractions
    into ``visible`` (when not (0, 0)); scratch of its own. Returns the sight lines tested
    against the occluders."""
    s = xy.shape[0]
    nb = prisms.shape[0]
    k_n = s_side.shape[0] + top_off.shape[0]
    dense = list_start.shape[0] == 0
    all_boxes = box_start.shape[0] == 0
    all_idx = np.arange(nb)
    lst = np.empty(s, dtype=np.int64)
    boxes = np.empty((s, 4))
    anyf = np.empty(s, dtype=np.bool_)
    over = np.empty(s, dtype=np.bool_)
    scratch = _sample_scratch(s_side.shape[0], k_n)
    blockers = np.empty(s, dtype=np.int64)
    near_boxes = np.empty(nb, dtype=np.int64)
    rays = 0
    dense_out = visible.shape[0] > 0
    for c in range(c0, c1):
        if not live[c]:
            continue
        seg = n_pairs = off[c]
        n_l = _camera_bodies(c, xy, dense, use_ext, ext, list_start, list_body, lst)
        if n_l == 0:
            continue
        cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
        for li in range(n_l):
            p = lst[li]
            anyf[li], over[li] = _image_box(c, xy[p, 0], xy[p, 1], cam_pos, cam_rot, intr, res,
                                            outline_cam, near, boxes[li])
        if all_boxes or (dense and not use_ext):
            b0, b1, bsrc, grown = 0, nb, all_idx, all_grown
        else:
            b0, b1, bsrc, grown = box_start[c], box_start[c + 1], box_list, box_grown
        for lj in range(n_l):
            if not over[lj]:
                continue
            j = lst[lj]
            jx, jy = xy[j, 0], xy[j, 1]
            # who and what may stand across its sight lines
            n_bk = _body_blockers(lj, n_l, lst, anyf, boxes, xy, cx, cy, cz, radius, height,
                                  blockers)
            m = _near_boxes(cx, cy, cz, jx, jy, grown, bsrc, b0, b1, near_boxes)
            if n_bk == 0 and m == 0 and _wholly_seen(boxes[lj], res[c, 0], res[c, 1], cx, cy,
                                                     cz, jx, jy, radius, height):
                # wholly inside the picture (1 px margin), nothing in the way: every sample
                # is seen, and the same sum over and under the line gives exactly 1
                v = 1.0
            else:
                v, r = _sampled_fraction(c, jx, jy, cam_pos, cam_rot, intr, res, s_side,
                                         z_side, top_off, radius, height, near, xy, blockers,
                                         n_bk, prisms, near_boxes, m, scratch)
                rays += r
            n_pairs = _record(c, j, v, visible, dense_out, pair_c, pair_j, pair_v, n_pairs)
        if n_pairs - seg > 1:     # this camera's pairs by body
            order = np.argsort(pair_j[seg:n_pairs], kind="mergesort")
            pair_j[seg:n_pairs] = pair_j[seg:n_pairs][order]
            pair_v[seg:n_pairs] = pair_v[seg:n_pairs][order]
        cnt[c] = n_pairs - seg
    return rays
