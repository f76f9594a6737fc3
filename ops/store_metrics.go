package ops

import "github.com/prometheus/client_golang/prometheus"

// StoreStats is what the store reports for metrics, in plain numbers so that
// no storage engine type leaks outside package store.
type StoreStats struct {
	Commits             uint64  // write transactions committed (one fsync each)
	BatchedCalls        uint64  // writes committed; BatchedCalls/Commits is writes per fsync
	IndexEntriesVisited uint64  // identification index entries read
	ProfileReads        uint64  // profiles decoded
	SizeBytes           int64   // data file size
	ReadTx              uint64  // read transactions started
	OpenReadTx          uint64  // read transactions open now
	FreePages           uint64  // pages on the freelist
	PendingPages        uint64  // pages freed but held by open readers
	PageWrites          uint64  // pages written by write transactions
	WriteSeconds        float64 // time spent writing pages
}

// storeCollector turns the store's cumulative statistics into metrics at
// scrape time, so nothing polls the database in the background.
type storeCollector struct {
	stats   func() StoreStats
	metrics []storeMetric
}

type storeMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s *StoreStats) float64
}

// NewStoreCollector returns a collector for the store's statistics; register
// it with Metrics.Register.
func NewStoreCollector(stats func() StoreStats) prometheus.Collector {
	metric := func(name, help string, kind prometheus.ValueType, value func(s *StoreStats) float64) storeMetric {
		return storeMetric{prometheus.NewDesc("profiled_store_"+name, help, nil, nil), kind, value}
	}
	return &storeCollector{stats: stats, metrics: []storeMetric{
		metric("commits_total", "Write transactions committed (one fsync each).", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.Commits) }),
		metric("writes_total", "Writes committed; divided by commits it gives writes per fsync.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.BatchedCalls) }),
		metric("index_entries_visited_total", "Identification index entries read.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.IndexEntriesVisited) }),
		metric("profile_reads_total", "Profiles read.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.ProfileReads) }),
		metric("size_bytes", "Size of the data file.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.SizeBytes) }),
		metric("read_tx_total", "Read transactions started.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.ReadTx) }),
		metric("open_read_tx", "Read transactions currently open.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.OpenReadTx) }),
		metric("free_pages", "Pages on the freelist.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.FreePages) }),
		metric("pending_pages", "Pages freed but still held by open read transactions.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.PendingPages) }),
		metric("page_writes_total", "Pages written to disk by write transactions.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.PageWrites) }),
		metric("write_seconds_total", "Time spent writing pages to disk.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return s.WriteSeconds }),
	}}
}

func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range sc.metrics {
		ch <- m.desc
	}
}

func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := sc.stats()
	for _, m := range sc.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}
