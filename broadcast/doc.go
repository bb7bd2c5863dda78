// Package broadcast owns sending one message to many without harming the brand's number:
// what a broadcast will reach and cost before it is confirmed (the plan), releasing its
// recipients at the pace the number's limits allow, across days and restarts (the pacer),
// pausing when the number's quality drops, and the report of how far it got. It knows the
// chat platforms only through the facts a channel reports (NumberHealth, Preference) and the
// engine only through the small interfaces declared where they are used.
package broadcast
