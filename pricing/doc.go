// Package pricing owns what a template message costs the brand: a price table by template
// category and country in one currency (read from CSV, a file or the dashboard's form), the
// country of a WhatsApp number by its calling code, and the estimate of a broadcast's cost
// from its recipients by country. It implements broadcast.Pricer; what Meta actually charges
// is whatever the brand's table says, so the estimate is only as good as the table.
package pricing
