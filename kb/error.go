package kb

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer; the HTTP layer maps them to statuses.
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	ECONFLICT  = "conflict"
	EFORBIDDEN = "forbidden"
	EUNAUTH    = "unauthorized"
	ETOOLARGE  = "too_large"
	ELIMIT     = "rate_limited"
	// EUNAVAILABLE marks a service that cannot serve for now: starting,
	// stopping, or its store or index out of reach.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal"
)

// Error is a domain error whose message is safe to show to users.
type Error struct {
	Code    string
	Message string
	// Details lists per-field problems of an invalid input.
	Details []FieldError
}

func (e *Error) Error() string { return e.Message }

// Errorf returns a domain error with the given code and a user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain,
// or EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic message so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "服务内部错误，请稍后再试"
}
