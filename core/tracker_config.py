"""The tracker's parameters (:class:`TrackerConfig`): each with its unit, its allowed range
(checked on construction, :mod:`params`) and where its default comes from.
"""

from __future__ import annotations

from params import config, num


@config(frozen=True)
class TrackerConfig:
    """Tracker parameters. Units in brackets; ranges are checked on construction."""

    # detections from different cameras closer than this are one person [m]
    fuse_radius_m: float = num(0.5, gt=0, unit="m")
    # max distance prediction -> measurement to associate [m] (tuned on kiosk stream
    # replays: 1.2 m let a walker's prediction grab a shopper standing at a shelf)
    gate_m: float = num(0.8, gt=0, unit="m")
    # tentative -> confirmed after this many associated frames
    confirm_hits: int = num(3, ge=1, integer=True)
    # a confirmed track not seen for this long becomes lost [s]
    max_missed_s: float = num(1.0, gt=0, unit="s")
    # a lost track may be re-identified within this time [s]
    reid_window_s: float = num(20.0, ge=0, unit="s")
    # ... if the new detection is within reid_speed * gap + gate [m/s]
    reid_speed_mps: float = num(2.0, ge=0, unit="m/s")
    # a track that vanishes near the exit departs after this [s]
    exit_linger_s: float = num(0.5, ge=0, unit="s")
    # a check-in binds to a track born within this time of it [s]
    checkin_window_s: float = num(4.0, ge=0, unit="s")
    # a binding is a guess (its receipt goes to review) when a rival pairing of tracks and
    # check-ins fits their times within this much in all: the spread of a track's birth
    # after its scan (confirmation takes a few frames; a person takes ~1 s through a gate;
    # assumption) [s]
    checkin_tolerance_s: float = num(1.0, ge=0, unit="s")
    # last seen this close to the exit rectangle counts as at the exit [m]
    exit_margin_m: float = num(1.0, ge=0, unit="m")
    # a leftover detection this close to a matched one and seen by none of its cameras is
    # a stray duplicate of it [m]
    dup_radius_m: float = num(0.8, ge=0, unit="m")
    # for this long after the first frame a track may be born anywhere, not only in the
    # entrance: a stream that starts with people already inside (a camera switched on in
    # an open store, ``storetwin track``). 0 for the twin's runs, whose store opens empty [s]
    cold_start_s: float = num(0.0, ge=0, unit="s")
    # fused confidence a leftover detection needs to start a track
    birth_min_conf: float = num(0.5, ge=0, le=1)
    # consecutive missed frames that drop a tentative track
    tentative_max_misses: int = num(2, ge=0, integer=True)
    # one camera's foot-point error, std per axis [m]
    meas_sigma_m: float = num(0.15, gt=0, unit="m")
    # white-noise acceleration of the motion model, std per axis [m/s^2] (tuned on kiosk
    # replays: shoppers walk at ~1.3 m/s and stop within ~1 s)
    accel_sigma_mps2: float = num(1.0, gt=0, unit="m/s^2")
    # velocity std of a newborn track per axis [m/s]
    init_speed_sigma_mps: float = num(1.0, gt=0, unit="m/s")
    # filtered speed is clipped to this [m/s]
    max_speed_mps: float = num(3.0, gt=0, unit="m/s")
    # Appearance in association: a detection's cost for a track is its distance plus this
    # many metres per unit of total variation between its descriptor and the track's look
    # (0: positions alone) [m]
    appearance_weight_m: float = num(1.0, ge=0, unit="m")
    # ... and in re-identification: a lost track's look against a candidate's [m]
    appearance_reid_m: float = num(2.0, ge=0, unit="m")
    # A track's look is a running mean (this weight per frame) of its detections'
    # descriptors, from frames where no other track is within look_radius_m of it (a look
    # taken while two stand together could be either's)
    appearance_alpha: float = num(0.2, gt=0, le=1)
    look_radius_m: float = num(0.8, gt=0, unit="m")
    # how far back history() can look [s]
    history_s: float = num(60.0, gt=0, unit="s")
