"""Compiled CPU kernels of a camera frame after the visible fractions (numba,
``@njit(cache=True)``): single sight lines against the occluders (:func:`segments_blocked`),
the hands each camera sees (:func:`hands_visible`), and which seen camera-body pairs fire and
where (:func:`detection_hits`, :func:`detection_points`). The visible fractions themselves are
:mod:`twin._camera_kernels`; :class:`twin.cameras.CameraSystem` calls both. The random draws
stay in numpy, in the order the array formulation drew them.

Occluders are convex vertical prisms (fixture boxes, interior wall pieces): a plan polygon
of 4 corners given as 4 half-planes ``n . p <= off`` and a z range. A sight line is blocked
when its first surface hit lies more than 1 mm before the target, as a ray cast against the
prisms' triangle mesh (nearest hit) would say, in exact float64 instead of a ray tracer's
float32 (``tests/twin/test_cameras.py`` checks the two agree).

Determinism: every loop runs in a fixed order on one thread, so the same inputs give the same
bytes in every process. Importing this module compiles nothing; the first call compiles or
loads numba's cache next to this file.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# a surface hit this close before the target does not block it [m] (as in
# twin._camera_kernels: tests/twin/test_cameras.py checks they agree)
HIT_SLACK_M = 1e-3

# error_model="numpy": a float division by zero gives inf/nan instead of raising, so the
# per-sample loops carry no branches and compile to SIMD
_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")


@_inline
def _clip(t0, t1, num, den):
    """The ray interval (t0, t1) cut by the half-space den t <= num (t1 < t0: empty)."""
    if den == 0.0:
        return (t0, t1) if num >= 0.0 else (1.0, 0.0)
    t = num / den
    if den < 0.0:
        return max(t0, t), t1
    return t0, min(t1, t)


@_jit
def _first_hit(ox, oy, oz, dx, dy, dz, prisms, b):
    """Ray parameter t >= 0 (in units of (dx, dy, dz)) of the ray's first hit on the
    closed prism ``prisms[b]`` (see ``twin.cameras._prism_table``); inf when it misses."""
    t0, t1 = _clip(-np.inf, np.inf, oz - prisms[b, 12], -dz)
    t0, t1 = _clip(t0, t1, prisms[b, 13] - oz, dz)
    if t0 > t1:
        return np.inf
    for i in range(4):
        nx = prisms[b, 3 * i]
        ny = prisms[b, 3 * i + 1]
        t0, t1 = _clip(t0, t1, prisms[b, 3 * i + 2] - (nx * ox + ny * oy), nx * dx + ny * dy)
        if t0 > t1:
            return np.inf
    if t1 < 0.0:
        return np.inf
    return t0 if t0 >= 0.0 else t1     # from inside a prism: its far face


@_jit
def _segment_blocked(ox, oy, oz, tx, ty, tz, prisms, lo, hi, idx, nidx):
    """Whether one of the prisms ``idx[:nidx]`` hides (tx, ty, tz) from (ox, oy, oz) [m]."""
    dx, dy, dz = tx - ox, ty - oy, tz - oz
    length = math.sqrt(dx * dx + dy * dy + dz * dz)
    if length == 0.0:
        return False
    lim = (length - HIT_SLACK_M) / length
    bx0, bx1 = min(ox, tx), max(ox, tx)
    by0, by1 = min(oy, ty), max(oy, ty)
    bz0, bz1 = min(oz, tz), max(oz, tz)
    for q in range(nidx):
        b = idx[q]
        if (lo[b, 0] > bx1 or hi[b, 0] < bx0 or lo[b, 1] > by1 or hi[b, 1] < by0
                or lo[b, 2] > bz1 or hi[b, 2] < bz0):
            continue
        if _first_hit(ox, oy, oz, dx, dy, dz, prisms, b) < lim:
            return True
    return False


@_jit
def segments_blocked(origins, targets, prisms, lo, hi):
    """(r,) bool: some prism lies between origin and target (r, 3) [m] (first surface hit
    more than 1 mm before the target). prisms (b, 14) (``CameraSystem._prisms``), lo/hi (b, 3):
    the prisms' bounding boxes [m]."""
    n = origins.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    nb = prisms.shape[0]
    idx = np.arange(nb)
    for i in range(n):
        out[i] = _segment_blocked(origins[i, 0], origins[i, 1], origins[i, 2],
                                  targets[i, 0], targets[i, 1], targets[i, 2],
                                  prisms, lo, hi, idx, nb)
    return out


@_jit
def _cylinder_hit(ox, oy, oz, dx, dy, dz, qx, qy, radius, height):
    """Whether the segment o + s d, s in [0, 1], crosses the closed vertical cylinder
    (floor to ``height``) of ``radius`` around (qx, qy) (as ``twin.camgeom.cylinder_hits``)."""
    fx = ox - qx
    fy = oy - qy
    a = dx * dx + dy * dy
    b = 2.0 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - radius * radius
    disc = b * b - 4.0 * a * c
    if not (disc > 0.0 and a > 1e-12):
        return False
    sq = math.sqrt(disc)
    a2 = 2.0 * a
    s1 = min(max((-b - sq) / a2, 0.0), 1.0)
    s2 = min(max((-b + sq) / a2, 0.0), 1.0)
    if not s2 > s1:
        return False
    z1 = oz + s1 * dz
    z2 = oz + s2 * dz
    return min(z1, z2) < height and max(z1, z2) > 0.0


@_inline
def _bin_of(hx, hy, hz, bin_lo, bin_hi, margin):
    """The first bin whose box, grown by ``margin`` [m], holds the hand; -1: none."""
    for k in range(bin_lo.shape[0]):
        if (hx >= bin_lo[k, 0] - margin and hx <= bin_hi[k, 0] + margin
                and hy >= bin_lo[k, 1] - margin and hy <= bin_hi[k, 1] + margin
                and hz >= bin_lo[k, 2] - margin and hz <= bin_hi[k, 2] + margin):
            return k
    return -1


@_jit
def hands_visible(hands, xy, live, cam_pos, cam_rot, intr, res, near, bin_lo, bin_hi,
                  bin_normal, margin, radius, height, prisms, lo, hi, seen):
    """Which live cameras see each hand into seen (c, h) bool (as
    ``CameraSystem.hands_visible``, which documents the rules); returns the number of sight
    lines tested against the occluders.

    hands (h, 3) [m] (rows with a NaN: no hand); xy (s, 2) [m] the people; bin_lo, bin_hi
    (n, 3) [m], bin_normal (n, 2): the shelf bins; margin: a hand this close to a bin's box
    is in it [m]; prisms, lo, hi: the occluders as in
    :func:`twin._camera_kernels.visibility` (no rows: none)."""
    c_n = cam_pos.shape[0]
    n_h = hands.shape[0]
    s = xy.shape[0]
    nb = prisms.shape[0]
    idx = np.arange(nb)
    rays = 0
    for hi_ in range(n_h):
        hx, hy, hz = hands[hi_, 0], hands[hi_, 1], hands[hi_, 2]
        if not (np.isfinite(hx) and np.isfinite(hy) and np.isfinite(hz)):
            continue
        # the bin holding the hand (the first one), and the person it is inside (the nearest)
        b = _bin_of(hx, hy, hz, bin_lo, bin_hi, margin)
        owner = -1
        best = np.inf
        for p in range(s):
            g = math.hypot(hx - xy[p, 0], hy - xy[p, 1])
            if g < best:
                best = g
                owner = p
        if not best < radius:
            owner = -1
        for c in range(c_n):
            if not live[c]:
                continue
            cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
            rx, ry, rz = hx - cx, hy - cy, hz - cz
            x = rx * cam_rot[c, 0, 0] + ry * cam_rot[c, 1, 0] + rz * cam_rot[c, 2, 0]
            y = rx * cam_rot[c, 0, 1] + ry * cam_rot[c, 1, 1] + rz * cam_rot[c, 2, 1]
            z = rx * cam_rot[c, 0, 2] + ry * cam_rot[c, 1, 2] + rz * cam_rot[c, 2, 2]
            if not z > near:
                continue
            u = intr[c, 0] * x / z + intr[c, 2]
            v = intr[c, 1] * y / z + intr[c, 3]
            if not (u >= 0.0 and u < res[c, 0] and v >= 0.0 and v < res[c, 1]):
                continue
            tx, ty, tz = hx, hy, hz
            if b >= 0:   # seen only through the bin's open front, from the aisle side
                n0, n1 = bin_normal[b, 0], bin_normal[b, 1]
                l0, l1, l2 = bin_lo[b, 0], bin_lo[b, 1], bin_lo[b, 2]
                u0, u1, u2 = bin_hi[b, 0], bin_hi[b, 1], bin_hi[b, 2]
                off = (n0 * (0.5 * (l0 + u0)) + n1 * (0.5 * (l1 + u1))
                       + 0.5 * (abs(n0) * (u0 - l0) + abs(n1) * (u1 - l1)))
                den = n0 * rx + n1 * ry
                oc = n0 * cx + n1 * cy
                tf = (off - oc) / (den if abs(den) > 1e-12 else 1e-12)
                tx, ty, tz = cx + tf * rx, cy + tf * ry, cz + tf * rz
                tol = margin + 1e-9
                if not (oc > off and den < 0.0 and tf > 0.0 and tf <= 1.0 + 1e-9
                        and tx >= l0 - tol and tx <= u0 + tol and ty >= l1 - tol
                        and ty <= u1 + tol and tz >= l2 - tol and tz <= u2 + tol):
                    continue
            if nb:
                rays += 1
                if _segment_blocked(cx, cy, cz, tx, ty, tz, prisms, lo, hi, idx, nb):
                    continue
            hidden = False
            for p in range(s):
                if p != owner and _cylinder_hit(cx, cy, cz, rx, ry, rz, xy[p, 0], xy[p, 1],
                                                radius, height):
                    hidden = True
                    break
            if not hidden:
                seen[c, hi_] = True
    return rays


@_jit
def detection_hits(pair_c, pair_j, pair_v, xy, cam_pos, p_max, min_visible, full_visible,
                   full_range_m, range_scale_m):
    """The chance each seen camera-body pair (from :func:`twin._camera_kernels.visibility`)
    fires: p = p_max scaled by the visible fraction (rising linearly from 0 at ``min_visible``
    to 1 at ``full_visible``) and by the horizontal distance beyond ``full_range_m``
    (e-folding ``range_scale_m``) [m]. Returns, for the pairs with
    p > 0 in their order, camera (n,) int32, body (n,) int64, distance (n,) [m], visible
    fraction (n,) and p (n,); the caller draws one uniform per pair and keeps u < p."""
    m = pair_c.shape[0]
    cam = np.empty(m, dtype=np.int32)
    body = np.empty(m, dtype=np.int64)
    hd = np.empty(m)
    hv = np.empty(m)
    hp = np.empty(m)
    n = 0
    for k in range(m):
        vis = pair_v[k]
        if not vis > min_visible:       # p = 0: never fires
            continue
        c = pair_c[k]
        j = pair_j[k]
        dx = cam_pos[c, 0] - xy[j, 0]
        dy = cam_pos[c, 1] - xy[j, 1]
        d = math.sqrt(dx * dx + dy * dy)
        p = p_max * min(max((vis - min_visible) / (full_visible - min_visible), 0.0), 1.0)
        if d > full_range_m:
            p *= math.exp(-(d - full_range_m) / range_scale_m)
        if p > 0.0:
            cam[n] = c
            body[n] = j
            hd[n] = d
            hv[n] = vis
            hp[n] = p
            n += 1
    return cam[:n], body[:n], hd[:n], hv[:n], hp[:n]


@_jit
def detection_points(xy, body, dist, vis, noise, zc, sigma0_m, sigma_per_m):
    """Noisy foot points (n, 2) [m] and confidences (n,) of the hits of
    :func:`detection_hits`, from standard normal draws noise (n, 2) and zc (n,): sigma
    (sigma0_m + sigma_per_m * dist) * (2 - vis) per axis; confidence 0.45 + 0.5 vis
    - 0.03 dist + 0.05 zc, clipped to [0.05, 1]."""
    n = body.shape[0]
    out = np.empty((n, 2))
    conf = np.empty(n)
    for k in range(n):
        sig = (sigma0_m + sigma_per_m * dist[k]) * (2.0 - vis[k])
        out[k, 0] = xy[body[k], 0] + noise[k, 0] * sig
        out[k, 1] = xy[body[k], 1] + noise[k, 1] * sig
        conf[k] = min(max(0.45 + 0.5 * vis[k] - 0.03 * dist[k] + 0.05 * zc[k], 0.05), 1.0)
    return out, conf


@_inline
def _arm_hit(ox, oy, oz, dx, dy, dz, ax, ay, az, bx, by, bz, r, s_max):
    """Whether the sight segment o + s d (s in [0, s_max]) enters an arm as rendered
    (:func:`twin.people.arm_mesh`): a solid cylinder of radius ``r`` from the shoulder a to
    the wrist b, flat at both ends, with a ball of radius ``r`` at the shoulder [m]."""
    ex, ey, ez = bx - ax, by - ay, bz - az
    length = math.sqrt(ex * ex + ey * ey + ez * ez)
    wx, wy, wz = ox - ax, oy - ay, oz - az
    # the shoulder ball: the segment's nearest point to a
    dd = dx * dx + dy * dy + dz * dz
    s = -(wx * dx + wy * dy + wz * dz) / dd if dd > 1e-18 else 0.0
    s = min(max(s, 0.0), s_max)
    qx, qy, qz = wx + s * dx, wy + s * dy, wz + s * dz
    if qx * qx + qy * qy + qz * qz < r * r:
        return True
    if length < 1e-9:
        return False
    ux, uy, uz = ex / length, ey / length, ez / length
    h0 = wx * ux + wy * uy + wz * uz           # axial coordinate of o, and its rate
    hd = dx * ux + dy * uy + dz * uz
    px, py, pz = wx - h0 * ux, wy - h0 * uy, wz - h0 * uz     # across the axis
    vx, vy, vz = dx - hd * ux, dy - hd * uy, dz - hd * uz
    a2 = vx * vx + vy * vy + vz * vz
    b2 = 2.0 * (px * vx + py * vy + pz * vz)
    c2 = px * px + py * py + pz * pz - r * r
    if a2 < 1e-18:
        if c2 >= 0.0:
            return False
        t0, t1 = 0.0, s_max
    else:
        disc = b2 * b2 - 4.0 * a2 * c2
        if disc <= 0.0:
            return False
        sq = math.sqrt(disc)
        t0, t1 = (-b2 - sq) / (2.0 * a2), (-b2 + sq) / (2.0 * a2)
    t0, t1 = max(t0, 0.0), min(t1, s_max)
    # within the slab 0 <= h0 + s hd <= length
    if abs(hd) < 1e-18:
        if h0 < 0.0 or h0 > length:
            return False
    else:
        u0, u1 = (0.0 - h0) / hd, (length - h0) / hd
        t0, t1 = max(t0, min(u0, u1)), min(t1, max(u0, u1))
    return t1 > t0


@_jit
def _hand_point_seen(cx, cy, cz, px, py, pz, b, stock_lo, stock_hi, xy, bodies, n_bod,
                     radius, height, prisms, lo, hi, idx, nidx, arm_a, arm_b, arm_r):
    """(seen, sight lines tested) of one point of a hand's silhouette from a camera at c:
    hidden inside the stock of bin ``b`` (-1: none), behind a fixture (of ``idx[:nidx]``),
    a body (of ``bodies[:n_bod]``, rows of xy) or an arm; the candidates
    (:func:`_near_hand`) hold every one that may lie across the sight line."""
    if b >= 0 and (px >= stock_lo[b, 0] and px <= stock_hi[b, 0]
                   and py >= stock_lo[b, 1] and py <= stock_hi[b, 1]
                   and pz >= stock_lo[b, 2] and pz <= stock_hi[b, 2]):
        return 0, 0
    nb = prisms.shape[0]
    if nb and _segment_blocked(cx, cy, cz, px, py, pz, prisms, lo, hi, idx, nidx):
        return 0, 1
    dx, dy, dz = px - cx, py - cy, pz - cz
    for q in range(n_bod):
        p = bodies[q]
        if _cylinder_hit(cx, cy, cz, dx, dy, dz, xy[p, 0], xy[p, 1], radius, height):
            return 0, int(nb > 0)
    for k in range(arm_a.shape[0]):
        if _arm_hit(cx, cy, cz, dx, dy, dz, arm_a[k, 0], arm_a[k, 1], arm_a[k, 2],
                    arm_b[k, 0], arm_b[k, 1], arm_b[k, 2], arm_r, 1.0 - 1e-6):
            return 0, int(nb > 0)
    return 1, int(nb > 0)


@_jit
def _near_hand(cx, cy, cz, hx, hy, hz, hand_r, lo, hi, xy, radius, idx, bodies):
    """The candidates that may hide a point of the hand ball (centre (hx, hy, hz), radius
    hand_r [m]) from the camera at (cx, cy, cz): into idx, the prisms whose box (lo, hi
    (b, 3)) meets the box of the camera and the ball (each sight line's own box, which
    :func:`_segment_blocked` tests, lies inside it), and into bodies, the people of xy
    (s, 2) whose disc of ``radius`` meets it in plan (a cylinder a sight line crosses
    does); ascending. Returns (prisms, bodies) found. A hair of slack keeps rounding out."""
    e = 1e-9
    x0, x1 = min(cx, hx - hand_r) - e, max(cx, hx + hand_r) + e
    y0, y1 = min(cy, hy - hand_r) - e, max(cy, hy + hand_r) + e
    z0, z1 = min(cz, hz - hand_r) - e, max(cz, hz + hand_r) + e
    n = 0
    for b in range(lo.shape[0]):
        if not (lo[b, 0] > x1 or hi[b, 0] < x0 or lo[b, 1] > y1 or hi[b, 1] < y0
                or lo[b, 2] > z1 or hi[b, 2] < z0):
            idx[n] = b
            n += 1
    m = 0
    for p in range(xy.shape[0]):
        if not (xy[p, 0] - radius > x1 or xy[p, 0] + radius < x0
                or xy[p, 1] - radius > y1 or xy[p, 1] + radius < y0):
            bodies[m] = p
            m += 1
    return n, m


@_jit
def hand_fractions(hands, xy, live, cam_pos, cam_rot, intr, res, near, bin_lo, bin_hi,
                   stock_lo, stock_hi, margin, radius, height, prisms, lo, hi, arm_a, arm_b, arm_r, hand_r,
                   disk, out):
    """The share of each hand's silhouette each live camera sees, into out (c, h) float64
    (as ``CameraSystem.hand_fractions``, which documents the rules); returns the number of
    sight lines tested against the occluders.

    hands (h, 3) [m] (rows with a NaN: no hand); xy (s, 2) the people; bin_lo, bin_hi (n, 3)
    the shelf bins (which one holds the hand); stock_lo, stock_hi (n, 3) their stock as
    rendered (:func:`scenes.meshes.stock_boxes`, what hides the hand inside its bin); arm_a, arm_b (k, 3): the arms as capsules of radius ``arm_r`` (shoulder
    to wrist); hand_r: the hand ball's radius; disk (q, 2): sample points of the unit disk,
    uniform in area (the hand's silhouette as the camera sees it)."""
    c_n = cam_pos.shape[0]
    nb = prisms.shape[0]
    idx = np.empty(nb, np.int64)
    bodies = np.empty(xy.shape[0], np.int64)
    rays = 0
    for h in range(hands.shape[0]):
        hx, hy, hz = hands[h, 0], hands[h, 1], hands[h, 2]
        if not (np.isfinite(hx) and np.isfinite(hy) and np.isfinite(hz)):
            continue
        b = _bin_of(hx, hy, hz, bin_lo, bin_hi, margin)
        for c in range(c_n):
            if not live[c]:
                continue
            cx, cy, cz = cam_pos[c, 0], cam_pos[c, 1], cam_pos[c, 2]
            rx, ry, rz = hx - cx, hy - cy, hz - cz
            z = rx * cam_rot[c, 0, 2] + ry * cam_rot[c, 1, 2] + rz * cam_rot[c, 2, 2]
            if not z > near:
                continue
            x = rx * cam_rot[c, 0, 0] + ry * cam_rot[c, 1, 0] + rz * cam_rot[c, 2, 0]
            y = rx * cam_rot[c, 0, 1] + ry * cam_rot[c, 1, 1] + rz * cam_rot[c, 2, 1]
            u = intr[c, 0] * x / z + intr[c, 2]
            v = intr[c, 1] * y / z + intr[c, 3]
            if not (u >= 0.0 and u < res[c, 0] and v >= 0.0 and v < res[c, 1]):
                continue
            dist = math.sqrt(rx * rx + ry * ry + rz * rz)
            vx, vy, vz = rx / dist, ry / dist, rz / dist     # towards the hand
            # a basis of the plane across the view
            if abs(vz) < 0.9:
                e1x, e1y, e1z = -vy, vx, 0.0
            else:
                e1x, e1y, e1z = 0.0, -vz, vy
            n1 = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
            e1x, e1y, e1z = e1x / n1, e1y / n1, e1z / n1
            e2x = vy * e1z - vz * e1y
            e2y = vz * e1x - vx * e1z
            e2z = vx * e1y - vy * e1x
            # the fixtures and bodies that may stand across a sight line to the hand's ball
            nidx, n_bod = _near_hand(cx, cy, cz, hx, hy, hz, hand_r, lo, hi, xy, radius,
                                     idx, bodies)
            seen = 0
            for q in range(disk.shape[0]):
                a_, b_ = disk[q, 0], disk[q, 1]
                w = math.sqrt(max(0.0, 1.0 - a_ * a_ - b_ * b_))
                px = hx + hand_r * (a_ * e1x + b_ * e2x - w * vx)
                py = hy + hand_r * (a_ * e1y + b_ * e2y - w * vy)
                pz = hz + hand_r * (a_ * e1z + b_ * e2z - w * vz)
                ok, tested = _hand_point_seen(cx, cy, cz, px, py, pz, b, stock_lo, stock_hi, xy,
                                              bodies, n_bod, radius, height, prisms, lo, hi,
                                              idx, nidx, arm_a, arm_b, arm_r)
                rays += tested
                seen += ok
            out[c, h] = seen / disk.shape[0]
    return rays


@_inline
def _u01(key, k):
    """A uniform in [0, 1) from the 64-bit ``key`` and counter ``k`` (splitmix64): the merges'
    draws, keyed per frame by one draw of their own stream."""
    z = np.uint64(key) + np.uint64(k + 1) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@_jit
def image_boxes(cam, pxy, cam_pos, cam_rot, intr, res, outline, near):
    """(n, 4) u0, v0, u1, v1 [px] image box of the ``outline`` (k, 3) around each body at
    ``pxy`` (n, 2) in camera ``cam`` (n,), clipped to the image (as
    :func:`twin.merges.image_boxes`)."""
    n = cam.shape[0]
    out = np.empty((n, 4))
    for k in range(n):
        c = cam[k]
        u0 = v0 = 1e9
        u1 = v1 = -1e9
        for q in range(outline.shape[0]):
            x = pxy[k, 0] + outline[q, 0] - cam_pos[c, 0]
            y = pxy[k, 1] + outline[q, 1] - cam_pos[c, 1]
            z = outline[q, 2] - cam_pos[c, 2]
            zc = x * cam_rot[c, 0, 2] + y * cam_rot[c, 1, 2] + z * cam_rot[c, 2, 2]
            if zc <= near:
                continue
            xc = x * cam_rot[c, 0, 0] + y * cam_rot[c, 1, 0] + z * cam_rot[c, 2, 0]
            yc = x * cam_rot[c, 0, 1] + y * cam_rot[c, 1, 1] + z * cam_rot[c, 2, 1]
            u = intr[c, 0] * xc / zc + intr[c, 2]
            v = intr[c, 1] * yc / zc + intr[c, 3]
            u0, u1, v0, v1 = min(u0, u), max(u1, u), min(v0, v), max(v1, v)
        w, h = float(res[c, 0]), float(res[c, 1])
        out[k, 0] = min(max(u0, 0.0), w)
        out[k, 1] = min(max(v0, 0.0), h)
        out[k, 2] = min(max(u1, 0.0), w)
        out[k, 3] = min(max(v1, 0.0), h)
    return out


@_inline
def _iou(b, i, j):
    w = max(min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0]), 0.0)
    h = max(min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1]), 0.0)
    inter = w * h
    u = ((b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1]) + (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])
         - inter)
    return inter / u if u > 0.0 and inter > 0.0 else 0.0


@_jit
def merge_split(cam, boxes, vis, dxy, conf, logit0, slope, merge_on, split_rate, offset, key):
    """Merges and splits of detections sorted by camera (:func:`twin.merges.merge_split`):
    one uniform per overlapping pair of a camera (pairs in row order), taken by decreasing
    IoU; then one per surviving detection for a split and one per split for its direction.
    Returns rows, partner, xy, conf."""
    n = cam.shape[0]
    alive = np.ones(n, np.bool_)
    partner = np.full(n, -1, np.int64)
    draw = 0
    if merge_on and n > 1:
        pi = np.empty(n * 4, np.int64)
        pj = np.empty(n * 4, np.int64)
        po = np.empty(n * 4)
        m = 0
        for i in range(n):
            j = i + 1
            while j < n and cam[j] == cam[i]:
                o = _iou(boxes, i, j)
                if o > 0.0:
                    p = 1.0 / (1.0 + math.exp(-(logit0 + slope * o)))
                    if _u01(key, draw) < p:
                        if m == pi.shape[0]:
                            pi, pj, po = (np.concatenate((pi, pi)), np.concatenate((pj, pj)),
                                          np.concatenate((po, po)))
                        pi[m], pj[m], po[m] = i, j, o
                        m += 1
                    draw += 1
                j += 1
        for q in np.argsort(-po[:m], kind="mergesort"):
            a, b = pi[q], pj[q]
            if not (alive[a] and alive[b]) or partner[a] >= 0 or partner[b] >= 0:
                continue
            if vis[a] >= vis[b]:
                alive[b] = False
                partner[a] = b
            else:
                alive[a] = False
                partner[b] = a
    rows = np.flatnonzero(alive)
    na = rows.shape[0]
    split = np.zeros(na, np.bool_)
    ns = 0
    if split_rate > 0.0:
        for k in range(na):
            split[k] = _u01(key, draw) < split_rate
            draw += 1
            ns += split[k]
    out_rows = np.empty(na + ns, np.int64)
    out_part = np.full(na + ns, -1, np.int64)
    xy = np.empty((na + ns, 2))
    cf = np.empty(na + ns)
    e = na
    for k in range(na):
        r = rows[k]
        out_rows[k] = r
        out_part[k] = partner[r]
        xy[k, 0], xy[k, 1] = dxy[r, 0], dxy[r, 1]
        cf[k] = conf[r] if partner[r] < 0 else max(conf[r], conf[partner[r]])
        if split[k]:
            a = 2.0 * math.pi * _u01(key, draw)
            draw += 1
            out_rows[e] = r
            xy[e, 0] = dxy[r, 0] + offset * math.cos(a)
            xy[e, 1] = dxy[r, 1] + offset * math.sin(a)
            cf[e] = 0.5 * cf[k]
            e += 1
    return out_rows, out_part, xy, cf


@_jit
def merge_split_frame(cam, ss, xy, vis, dxy, conf, cam_pos, cam_rot, intr, res, outline, near,
                      logit0, slope, merge_on, split_rate, offset, key):
    """:func:`merge_split` of the detections (camera ``cam``, person ``ss`` of people at
    ``xy``), their image boxes computed here (:func:`image_boxes`): one call per frame."""
    n = cam.shape[0]
    pxy = np.empty((n, 2))
    cam64 = np.empty(n, np.int64)
    for k in range(n):
        pxy[k, 0], pxy[k, 1] = xy[ss[k], 0], xy[ss[k], 1]
        cam64[k] = cam[k]
    boxes = image_boxes(cam64, pxy, cam_pos, cam_rot, intr, res, outline, near)
    return merge_split(cam64, boxes, vis, dxy, conf, logit0, slope, merge_on, split_rate,
                       offset, key)
