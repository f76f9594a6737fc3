package ops

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// ServerConfig holds the http.Server limits. A zero duration means no limit,
// as in net/http; always set ReadHeaderTimeout, which is what stops a client
// from holding a connection open by sending headers slowly.
type ServerConfig struct {
	Addr              string        // listen address, e.g. ":8080"; ":0" picks a free port
	ReadHeaderTimeout time.Duration // e.g. 5s
	ReadTimeout       time.Duration // whole request including body, e.g. 30s
	WriteTimeout      time.Duration // e.g. 60s; BackupHandler extends it for its own response
	IdleTimeout       time.Duration // keep-alive, e.g. 120s
	// MaxHeaderBytes bounds the request line and headers: HeaderLimit
	// answers a request over it in the API's format; net/http itself cuts
	// at headerReadCap times it. 0: HeaderLimit is off and net/http's own
	// 1 MiB applies.
	MaxHeaderBytes int
	ErrorLog       *log.Logger // net/http's own errors (TLS, panics); nil means the log package
}

// Server is an HTTP server that is already listening.
type Server struct {
	srv      *http.Server
	addr     string
	done     chan struct{}
	err      error // set before done is closed
	inFlight atomic.Int64
}

// Listener is a bound address not serving yet: a service binds first, so a
// busy port fails before it opens its data file, and serves once ready.
type Listener struct {
	ln  net.Listener
	cfg ServerConfig
}

// Listen binds cfg.Addr.
func Listen(cfg ServerConfig) (*Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return &Listener{ln: ln, cfg: cfg}, nil
}

// Serve serves h on the bound address in a goroutine.
func (l *Listener) Serve(h http.Handler) *Server {
	s := &Server{addr: l.ln.Addr().String(), done: make(chan struct{})}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.inFlight.Add(1)
			defer s.inFlight.Add(-1)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: l.cfg.ReadHeaderTimeout,
		ReadTimeout:       l.cfg.ReadTimeout,
		WriteTimeout:      l.cfg.WriteTimeout,
		IdleTimeout:       l.cfg.IdleTimeout,
		MaxHeaderBytes:    l.cfg.MaxHeaderBytes * headerReadCap,
		ErrorLog:          l.cfg.ErrorLog,
	}
	go func() {
		if err := s.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
		close(s.done)
	}()
	return s
}

// ListenAndServe binds cfg.Addr before returning, so a busy port is an error
// here and not a log line later, then serves h in a goroutine.
func ListenAndServe(cfg ServerConfig, h http.Handler) (*Server, error) {
	l, err := Listen(cfg)
	if err != nil {
		return nil, err
	}
	return l.Serve(h), nil
}

// InFlight is the number of requests being served.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// Addr is the address actually bound, with the real port when cfg.Addr
// asked for ":0".
func (s *Server) Addr() string { return s.addr }

// Done is closed when the server has stopped serving, after Shutdown or
// because the listener failed; Err then says which.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the error that stopped the server, or nil after Shutdown. It is
// meaningful once Done is closed.
func (s *Server) Err() error { return s.err }

// Shutdown stops accepting connections, closes idle ones and waits up to
// timeout for in-flight requests to finish. Requests still running then are
// cut off, counted in cut, and an error is returned.
func (s *Server) Shutdown(timeout time.Duration) (cut int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = s.srv.Shutdown(ctx)
	if err != nil {
		cut = s.InFlight() // before Close ends them
		s.srv.Close()
		err = fmt.Errorf("graceful shutdown after %s: %w", timeout, err)
	}
	<-s.done
	return cut, err
}

// headerReadCap is how many times MaxHeaderBytes net/http reads before it
// answers 431 itself, in plain text: requests between the limit and the
// cap get HeaderLimit's answer, which clients can parse (a 70 KB query
// string is a bug in a client, not only an attack); beyond it, memory per
// connection stays bounded.
const headerReadCap = 4

// HeaderLimit refuses a request whose request line and headers, counted as
// sent, are over max bytes: 431 as an *echo.HTTPError, which each API
// renders in its own format.
func HeaderLimit(max int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if max > 0 && headerSize(c.Request()) > max {
				return echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge,
					fmt.Sprintf("the request line and headers are over %d bytes", max))
			}
			return next(c)
		}
	}
}

// headerSize is the size of r's request line and headers as sent
// (net/http keeps Host and Transfer-Encoding apart from the others).
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for _, coding := range r.TransferEncoding {
		n += len("Transfer-Encoding: ") + len(coding) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 4
		}
	}
	return n
}
