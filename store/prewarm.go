package store

// PrewarmResult is what Prewarm did: the bytes of the data file it mapped,
// or why it left the file alone.
type PrewarmResult struct {
	Bytes   int64
	Skipped string
}
