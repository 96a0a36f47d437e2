package httpapi

import (
	"strconv"

	"github.com/facepay/platform/shared/domain"
)

// Limit reads the "limit" query parameter (1..100, default def). It returns Invalid ("invalid_limit").
func Limit(req Request, def int) (int, error) {
	v, ok := req.QueryStringParameters["limit"]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, domain.Errorf(domain.Invalid, "invalid_limit", "limit must be 1 to 100")
	}
	return n, nil
}
