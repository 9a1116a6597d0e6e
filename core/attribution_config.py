"""The full core's attribution parameters (:class:`AttributionConfig`): who made a shelf
event, how sure, and what a hand-over does to carts (:mod:`core.store_core`), each with its
unit, its allowed range (checked on construction, :mod:`params`) and where its default
comes from.
"""

from __future__ import annotations

from params import config, num


@config(frozen=True)
class AttributionConfig:
    """Attribution parameters of :class:`core.store_core.StoreCore`. Units in brackets;
    ranges are checked on construction."""

    # a shopper farther than this from a bin's access point never made its event [m] (arm
    # reach + half an aisle)
    reach_m: float = num(1.6, gt=0, unit="m")
    # runner-up this much farther: full attribution confidence [m]
    margin_m: float = num(0.8, gt=0, unit="m")
    # No hand seen, and the runner-up also stood within reach_m of the bin and less than
    # margin_m farther than the nearest: either could have made the event, so the
    # attribution's confidence is at most this (below review: a human looks rather than
    # the core being sure and wrong; issue 22)
    reach_contested_confidence: float = num(0.45, ge=0, le=1)
    # look this far before the event's first active sample [s]
    lead_s: float = num(1.5, gt=0, unit="s")
    # receipts below this confidence go to a human
    review_threshold: float = num(0.5, ge=0, le=1)
    # A hand in a bin belongs to someone within arm's length: ~0.7 m arm + the step from
    # the aisle point to the shelf face + tracking error (assumption, checked on kiosk runs:
    # reachers stand 0.45-0.6 m from the face) [m].
    hand_reach_m: float = num(1.3, gt=0, unit="m")
    # Spread of a hand about where its reacher would put it (the nearest point of the bin's
    # face; the floor distance when bin sizes are unknown): the fused track's foot-point
    # error (~0.1 m) and the hand's (~0.03 m) plus how people lean (assumption) [m].
    hand_sigma_m: float = num(0.15, gt=0, unit="m")
    # a hand farther than this from every bin centre is in none [m]
    hand_bin_m: float = num(0.6, gt=0, unit="m")
    # observations of one event counted as independent, at most
    hand_max_obs: int = num(3, ge=1, integer=True)
    # Relative weights of the explanations of a put-back, against 1 for "a unit of the bin's
    # own sku that is in the putter's cart" (assumptions): a cart item put into a wrong bin,
    # and the bin's own sku when the putter's cart holds none (brought in, or mis-billed).
    misplace_prior: float = num(0.3, gt=0)
    not_in_cart_prior: float = num(0.1, gt=0)
    # confidence of a blind attribution (below review)
    blind_confidence: float = num(0.3, ge=0, le=1)
    # A hand held out away from every bin, between two shoppers on different accounts, is a
    # hand-over: both carts are multiplied by this (below review) and, when only one cart
    # holds anything, its latest unit moves to the other (assumption: the usual "can you
    # hold this" case). The same pair is one hand-over while sightings come less than
    # ``handover_gap_s`` apart (the twin holds a hand out for 0.5 s; two hand-overs of a swap
    # come a second or more apart) [s].
    handover_confidence: float = num(0.3, ge=0, le=1)
    handover_gap_s: float = num(1.0, gt=0, unit="s")
    # Identity swaps (issue 23). Two confirmed tracks on different accounts closer than
    # swap_m may have swapped identities: closer than the fusion radius (0.5 m) plus the
    # foot-point noise near a camera (~0.05-0.1 m), their detections fuse into one point
    # and the tracker cannot tell who continues as whom [m].
    swap_m: float = num(0.6, gt=0, unit="m")
    # ... for at least this long: a brief pass keeps each track on its own course (the
    # Kalman filter's velocity); a shopper walking in another's steps, or two standing
    # shoulder to shoulder at a shelf, do not (the default run, seed 0, swaps two people
    # standing together at t = 357 s) [s]
    swap_min_s: float = num(2.0, ge=0, unit="s")
    # A shelf event billed to one of them afterwards is doubted (its line, both carts: below
    # review) unless appearance re-identified the track since: reid_looks looks taken apart
    # from others since the encounter, and its look now at least reid_margin (total
    # variation) nearer its own look before the encounter than the other's (assumptions).
    swap_confidence: float = num(0.45, ge=0, le=1)
    # ... unless their looks before the approach differ by this much (total variation): the
    # tracker's association adds 1 m per unit of it (TrackerConfig.appearance_weight_m), more
    # than two people within swap_m can gain by distance (same-person looks differ by
    # 0.1-0.45 on the default run, different people's mostly by 0.55-0.75; assumption)
    swap_look_tv: float = num(0.5, gt=0, le=1)
    reid_looks: int = num(3, ge=1, integer=True)
    reid_margin: float = num(0.1, ge=0, le=1)
    # Two shoppers on different accounts both unseen for this long over a common stretch
    # (a blind spot, a crowd), last seen within unseen_m of each other, could have handed
    # something over where no camera saw it: both receipts go to review (swap_confidence)
    # (assumptions: a hand-over takes a second or more; two people within a couple of
    # metres can reach each other in it) [s], [m]
    unseen_min_s: float = num(1.0, gt=0, unit="s")
    unseen_m: float = num(2.0, gt=0, unit="m")
    # Two shoppers on different accounts within swap_m of each other for close_s, counting
    # only the time neither has had a hand in a bin within lead_s (a hand there is busy) and
    # one of them holds something, with no hand seen held out between them: at that
    # distance a hand passed at elbow height is between the two bodies, hidden from the
    # ceiling (issue 23's swap_in_blind_spot: both seen by up to five cameras, the hands by
    # none), so a hand-over may have happened unseen; both receipts go to review
    # (swap_confidence). Five seconds: a hand-over is the walk up, the pass and 0.5 s with
    # the hand out (assumption), two people passing in an aisle are close for less; on the
    # default run (seed 0) it sends 2 of 36 receipts to review that nothing else did, both
    # right (counting all close time, 3 s: 4 more, 5 s: 3 more) [s]
    close_s: float = num(5.0, gt=0, unit="s")
    # A hand-over a camera saw with both people (CameraFrame.hand_pass): the giver and the
    # receiver are the tracks nearest the points it reports, within this (the fused foot
    # point's error, ~0.1-0.2 m, plus an arm's lean; assumption) [m]
    pass_match_m: float = num(0.8, gt=0, unit="m")
    # ... and the giver's unit moves once the pick behind it is billed: a shelf event closes
    # after the load settles (ShelfEventConfig, ~1-2 s); a pass waits this long for it [s]
    pass_wait_s: float = num(5.0, gt=0, unit="s")
