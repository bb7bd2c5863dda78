package dashboard

// SessionCSRF is the CSRF token the forms of a signed-in session carry.
var SessionCSRF = sessionCSRF
