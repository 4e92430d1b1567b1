package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openAPIYAML is the hand-written OpenAPI 3 description of the HTTP API.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIJSON is the document as JSON, converted once at start.
var openAPIJSON = mustOpenAPIJSON(openAPIYAML)

func (s *Server) registerOpenAPI(g *echo.Group) {
	g.GET("/openapi.json", s.openAPI)
}

// openAPI is GET /api/v1/openapi.json: the API's OpenAPI 3 document.
func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIJSON)
}

// mustOpenAPIJSON converts the embedded YAML document to JSON; the
// document is part of the binary, so a failure is a build mistake.
func mustOpenAPIJSON(doc []byte) []byte {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		panic(fmt.Sprintf("api: openapi.yaml: %v", err))
	}
	out, err := json.Marshal(jsonValue(v))
	if err != nil {
		panic(fmt.Sprintf("api: openapi.yaml: %v", err))
	}
	return out
}

// jsonValue turns YAML maps with non-string keys, such as status codes
// written unquoted, into maps JSON can encode.
func jsonValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonValue(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonValue(e)
		}
	}
	return v
}
