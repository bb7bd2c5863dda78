// Package csvcell owns the one rule every CSV file the project writes follows for text a
// participant or a user typed: a spreadsheet must show it, never run it.
package csvcell

import "strings"

// Safe returns s with a leading apostrophe when it starts with =, +, -, @, a tab or a
// carriage return, the characters a spreadsheet takes as the start of a formula: a
// participant who writes "=HYPERLINK(…)" must not run it on the marketer's machine when the
// file is opened. Any other text is returned as it is.
func Safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
