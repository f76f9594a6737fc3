// Package docs embeds the service's published documents so the binary
// serves them wherever it runs (the image is FROM scratch).
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, served at /docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
