package dashboard

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/errs"
)

// errCSRF is a form posted without the token this browser was given.
var errCSRF = fmt.Errorf("%w: missing or wrong csrf token", errForbidden)

// Messages shown on error pages. They never include err.Error(): that text is for the log and
// may name internals.
const (
	msgCSRF         = "This form has expired. Reload the page and try again."
	msgForbidden    = "You may not do that."
	msgNotFound     = "Not found."
	msgInvalid      = "The request was not valid."
	msgConflict     = "Someone changed this in the meantime. Reload the page and try again."
	msgUnauthorized = "Please log in."
	msgTooLarge     = "The request is too large."
	msgInternal     = "Something went wrong on our side. It has been logged; please try again later."
)

// statusOf maps an error to an HTTP status and the message shown to the user.
func statusOf(err error) (int, string) {
	var fe *fiber.Error
	var why forbiddenError
	switch {
	case errors.Is(err, errCSRF):
		return fiber.StatusForbidden, msgCSRF
	case errors.As(err, &why):
		return fiber.StatusForbidden, why.reason
	case errors.Is(err, errForbidden):
		return fiber.StatusForbidden, msgForbidden
	case errors.Is(err, errs.ErrNotFound):
		return fiber.StatusNotFound, msgNotFound
	case errors.Is(err, errs.ErrInvalid):
		return fiber.StatusBadRequest, msgInvalid
	case errors.Is(err, errs.ErrConflict):
		return fiber.StatusConflict, msgConflict
	case errors.Is(err, errs.ErrUnauthorized):
		return fiber.StatusUnauthorized, msgUnauthorized
	case errors.Is(err, errs.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, msgTooLarge
	case errors.As(err, &fe) && fe.Code == fiber.StatusNotFound:
		// No route matched under /dashboard.
		return fe.Code, msgNotFound
	case errors.As(err, &fe) && fe.Code < 500:
		// Fiber's own errors (a body over the limit, a wrong method) are the client's.
		return fe.Code, msgInvalid
	default:
		return fiber.StatusInternalServerError, msgInternal
	}
}
