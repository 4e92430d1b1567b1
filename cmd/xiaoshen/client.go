package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient talks to a running server's HTTP API with a bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(server, token string) (*apiClient, error) {
	if server == "" {
		return nil, usageError{fmt.Errorf("需要服务器地址：--server URL 或环境变量 XIAOSHEN_SERVER")}
	}
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, usageError{fmt.Errorf("服务器地址 %q 无效", server)}
	}
	return &apiClient{base: strings.TrimRight(u.String(), "/"), token: token, http: &http.Client{Timeout: 10 * time.Minute}}, nil
}

// apiError is an error answer of the server.
type apiError struct {
	Status  int
	Code    string
	Message string
	Body    []byte
}

func (e *apiError) Error() string {
	return fmt.Sprintf("服务器返回 %d：%s", e.Status, e.Message)
}

// do sends a request and decodes a 2xx answer into out. A 4xx answer with
// a JSON body that out understands (an upload's 422 report) is decoded too
// and returned with the error.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("无法连接服务器 %s：%w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		ae := &apiError{Status: resp.StatusCode, Body: raw}
		if json.Unmarshal(raw, &eb) == nil && eb.Error.Message != "" {
			ae.Code, ae.Message = eb.Error.Code, eb.Error.Message
		} else {
			ae.Message = http.StatusText(resp.StatusCode)
			if out != nil {
				json.Unmarshal(raw, out)
			}
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("服务器的回答不是预期的 JSON：%w", err)
		}
	}
	return nil
}
