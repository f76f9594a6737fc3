package ops

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns a private Prometheus registry, so tests and several servers in
// one process never collide on the global default registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics returns Metrics with the HTTP request metrics and the Go runtime
// and process collectors registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_http_requests_total",
			Help: "HTTP requests served, by API, route template, method and status.",
		}, []string{"api", "route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "profiled_http_request_duration_seconds",
			Help:    "HTTP request latency, by API, route template and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"api", "route", "method"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
	)
	return m
}

// Register adds a caller's collector (store statistics, schema info, ...).
// It fails when a metric of the same name is already registered.
func (m *Metrics) Register(c prometheus.Collector) error {
	return m.reg.Register(c)
}

// RegisterCountFunc exposes fn's value as a gauge, and leaves the series
// out of the scrape when fn fails (a store that cannot count right now):
// a made-up 0 would read as every item gone. fn runs on every scrape,
// possibly concurrently with requests: keep it cheap and goroutine-safe.
func (m *Metrics) RegisterCountFunc(name, help string, fn func() (float64, error)) error {
	return m.reg.Register(&countCollector{desc: prometheus.NewDesc(name, help, nil, nil), fn: fn})
}

type countCollector struct {
	desc *prometheus.Desc
	fn   func() (float64, error)
}

func (c *countCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *countCollector) Collect(ch chan<- prometheus.Metric) {
	v, err := c.fn()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v)
}

// Handler serves the registry in the Prometheus text exposition format.
func (m *Metrics) Handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A failing custom collector should cost its own series, not the scrape.
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// Middleware records profiled_http_requests_total and
// profiled_http_request_duration_seconds for every request. Labels come from
// bounded sets only: the route template (or "unmatched"), apiOf's class, a
// known method (else "OTHER") and the status code, so no client can grow the
// series count by sending new paths or methods.
func (m *Metrics) Middleware(apiOf func(path string) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			runHandled(c, next)

			req := c.Request()
			api, route, method := apiOf(req.URL.Path), routeOf(c), methodLabel(req.Method)
			m.requests.WithLabelValues(api, route, method, strconv.Itoa(c.Response().Status)).Inc()
			m.duration.WithLabelValues(api, route, method).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}
