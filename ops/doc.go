// Package ops holds the operational HTTP plumbing: request ids, request
// logging, metrics, health and backup endpoints.
//
// The middleware order, outermost first, is the one the server uses:
//
//	e.Pre(RemoveTrailingSlash, headAsGet)
//	e.Use(headAgain, cacheHeaders, httpin.UnescapeParams, ops.RequestID, ops.RequestLogger(logger, apiOf, probes), metrics.Middleware(apiOf), recoverer, withActor)
//	[CORS, when configured]
//	e.Use(HeaderLimit, bodyLimit, queryCheck, schemaChangeAnswered)
//	per route: the API's authentication, then the maintenance gate on profile data routes
//
// (all but this package's are the server's own: headAsGet routes a HEAD as
// a GET and headAgain makes it HEAD again before anything logs it;
// cacheHeaders names in Vary and Cache-Control what an answer depends on;
// httpin.UnescapeParams decodes path parameters; withActor gives the request the
// audit actor that authentication names later; the gate refuses data
// operations in maintenance mode once the caller is authenticated), so that a panic or a
// refused body is still logged and counted with the status the client got.
// RequestLogger and Metrics.Middleware both render a handler's error through
// Echo's HTTPErrorHandler themselves (see runHandled), so they record the
// status the client really got. A custom HTTPErrorHandler must therefore do
// nothing when c.Response().Committed is already true, as Echo's default does.
package ops
