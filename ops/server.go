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
	MaxHeaderBytes    int           // 0 means net/http's 1 MiB
	ErrorLog          *log.Logger   // net/http's own errors (TLS, panics); nil means the log package
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

// Close releases the address of a listener that will not serve.
func (l *Listener) Close() error { return l.ln.Close() }

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
		MaxHeaderBytes:    l.cfg.MaxHeaderBytes,
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
