package main

import "strconv"

// count writes n with its noun, singular for exactly one: "1 state", "2 states".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
