// Package dashboard owns the web app for moderators and marketers: login with hashed
// passwords and session cookies, CSRF protection on every form, the queue of entries with
// thumbnails, and the approve and reject actions, rendered as server-side HTML with Fiber.
// It talks to the judge and the engine, never to a database driver.
package dashboard
