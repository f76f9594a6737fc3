package ops

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
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
	srv  *http.Server
	addr string
	done chan struct{}
	err  error // set before done is closed
}

// ListenAndServe binds cfg.Addr before returning, so a busy port is an error
// here and not a log line later, then serves h in a goroutine.
func ListenAndServe(cfg ServerConfig, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.WriteTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          cfg.ErrorLog,
		},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
		close(s.done)
	}()
	return s, nil
}

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
// cut off and an error is returned.
func (s *Server) Shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
		err = fmt.Errorf("graceful shutdown after %s: %w", timeout, err)
	}
	<-s.done
	return err
}
