package vapi

// LookupEndedReason exposes the outcome table to the tests, which check that every published
// endedReason has an outcome of its own rather than the fallback.
var LookupEndedReason = lookupEndedReason
