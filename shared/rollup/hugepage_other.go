//go:build !linux

package rollup

func adviseHuge([]byte) {}
