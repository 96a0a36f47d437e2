package rollup

// SetPayerHashMask narrows payer hashes (tests force collisions with it) and returns the
// previous mask's restorer.
func SetPayerHashMask(m uint64) (restore func()) {
	old := payerHashMask
	payerHashMask = m
	return func() { payerHashMask = old }
}
