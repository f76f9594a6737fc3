// Package ops holds the operational HTTP plumbing: request ids, request
// logging, metrics, health and backup endpoints.
//
// The intended middleware order, outermost first, is
//
//	e.Use(ops.RequestID, ops.RequestLogger(logger, apiOf), metrics.Middleware(apiOf), middleware.Recover())
//
// RequestLogger and Metrics.Middleware both render a handler's error through
// Echo's HTTPErrorHandler themselves (see runHandled), so they record the
// status the client really got. A custom HTTPErrorHandler must therefore do
// nothing when c.Response().Committed is already true, as Echo's default does.
package ops
