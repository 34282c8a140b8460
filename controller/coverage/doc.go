// Package coverage computes, from the inventory and the devices' latest
// evidence, the metrics of coverage and convergence per village: the
// broadband class (tiers of configuration) and what it rests on (measured,
// declared, override or none), take-up, digital TV, voice and convergence
// onto one access network; rolls them up per region, weighted by
// households and by population, for all villages and for priority ones;
// ranks the gaps with the nearest site that serves better; keeps snapshots
// on disk and compares two of them. README.md defines every figure, with a
// worked example.
//
// Compute is pure: no I/O, no clock, the same answer for the same input.
package coverage
