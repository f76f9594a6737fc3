package ops

import "github.com/prometheus/client_golang/prometheus"

// StoreStats is what a store engine reports for metrics, in plain numbers,
// so that ops depends on no engine's types (the server fills it in).
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
	Retries             uint64  // writes run again after a conflict (PostgreSQL)

	// Pool is set for a PostgreSQL store; the file and page figures above
	// are then not reported.
	Pool *PoolStats
}

// PoolStats are a PostgreSQL connection pool's figures.
type PoolStats struct {
	MaxConns, TotalConns, AcquiredConns, IdleConns uint64
	Acquires                                       uint64  // connections handed out
	EmptyAcquires                                  uint64  // of those, ones that had to wait for or open a connection
	AcquireSeconds                                 float64 // total time spent acquiring
	CanceledAcquire                                uint64  // acquires given up (request cancelled or timed out)
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
	pool  bool // a pool figure (PostgreSQL); the others with "file" are bbolt's
	file  bool
}

// NewStoreCollector returns a collector for the store's statistics; register
// it with Metrics.Register.
func NewStoreCollector(stats func() StoreStats) prometheus.Collector {
	metric := func(name, help string, kind prometheus.ValueType, value func(s *StoreStats) float64) storeMetric {
		return storeMetric{desc: prometheus.NewDesc("profiled_store_"+name, help, nil, nil), kind: kind, value: value}
	}
	fileMetric := func(name, help string, kind prometheus.ValueType, value func(s *StoreStats) float64) storeMetric {
		m := metric(name, help, kind, value)
		m.file = true
		return m
	}
	poolMetric := func(name, help string, kind prometheus.ValueType, value func(p *PoolStats) float64) storeMetric {
		m := metric("pool_"+name, help, kind, func(s *StoreStats) float64 { return value(s.Pool) })
		m.pool = true
		return m
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
		fileMetric("size_bytes", "Size of the data file.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.SizeBytes) }),
		fileMetric("read_tx_total", "Read transactions started.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.ReadTx) }),
		fileMetric("open_read_tx", "Read transactions currently open.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.OpenReadTx) }),
		fileMetric("free_pages", "Pages on the freelist.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.FreePages) }),
		fileMetric("pending_pages", "Pages freed but still held by open read transactions.", prometheus.GaugeValue,
			func(s *StoreStats) float64 { return float64(s.PendingPages) }),
		fileMetric("page_writes_total", "Pages written to disk by write transactions.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.PageWrites) }),
		fileMetric("write_seconds_total", "Time spent writing pages to disk.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return s.WriteSeconds }),
		metric("retries_total", "Writes run again after a serialization failure or deadlock.", prometheus.CounterValue,
			func(s *StoreStats) float64 { return float64(s.Retries) }),
		poolMetric("max_conns", "Connection pool size.", prometheus.GaugeValue,
			func(p *PoolStats) float64 { return float64(p.MaxConns) }),
		poolMetric("total_conns", "Connections open.", prometheus.GaugeValue,
			func(p *PoolStats) float64 { return float64(p.TotalConns) }),
		poolMetric("acquired_conns", "Connections in use.", prometheus.GaugeValue,
			func(p *PoolStats) float64 { return float64(p.AcquiredConns) }),
		poolMetric("idle_conns", "Connections idle.", prometheus.GaugeValue,
			func(p *PoolStats) float64 { return float64(p.IdleConns) }),
		poolMetric("acquires_total", "Connections handed out.", prometheus.CounterValue,
			func(p *PoolStats) float64 { return float64(p.Acquires) }),
		poolMetric("empty_acquires_total", "Acquires that waited for a connection or opened one.", prometheus.CounterValue,
			func(p *PoolStats) float64 { return float64(p.EmptyAcquires) }),
		poolMetric("acquire_seconds_total", "Time spent acquiring connections.", prometheus.CounterValue,
			func(p *PoolStats) float64 { return p.AcquireSeconds }),
		poolMetric("canceled_acquires_total", "Acquires given up.", prometheus.CounterValue,
			func(p *PoolStats) float64 { return float64(p.CanceledAcquire) }),
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
		if (m.pool && s.Pool == nil) || (m.file && s.Pool != nil) {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}
