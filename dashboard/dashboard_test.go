package dashboard_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

func TestLogin(t *testing.T) {
	t.Run("WrongPasswordIs401WithMessageAndNoSession", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)

		for _, c := range []struct{ user, password string }{
			{"mod1", "not the password"},
			{"nobody", testPassword},
		} {
			resp := h.Login(c.user, c.password)
			wantStatus(t, resp, http.StatusUnauthorized)
			doc := MustDoc(t, resp)
			if got := strings.TrimSpace(doc.Find(".login .error").Text()); got != "Wrong username or password." {
				t.Errorf("%s: message = %q", c.user, got)
			}
			if doc.Find("#username").Length() != 1 || doc.Find("#password").Length() != 1 {
				t.Errorf("%s: login form not re-rendered", c.user)
			}
			if v, _ := doc.Find("#password").Attr("value"); v != "" {
				t.Errorf("%s: password echoed back", c.user)
			}
		}
		if s := h.users.Sessions(); len(s) != 0 {
			t.Errorf("sessions stored after failed logins: %v", s)
		}
		if _, ok := h.jar["dashboard_session"]; ok {
			t.Error("session cookie set after failed login")
		}
		wantStatus(t, h.Get("/dashboard/entries"), http.StatusSeeOther)
	})

	t.Run("SucceedsWithHashedSessionCookie", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)

		resp := h.Login("mod1", testPassword)
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/dashboard/entries" {
			t.Errorf("Location = %q", loc)
		}
		c, ok := h.jar["dashboard_session"]
		if !ok {
			t.Fatal("no session cookie")
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/dashboard" {
			t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q", c.HttpOnly, c.SameSite, c.Path)
		}
		raw, err := base64URLDecode(c.Value)
		if err != nil || len(raw) != 32 {
			t.Errorf("session token is not 256 random bits: %q", c.Value)
		}
		sum := sha256.Sum256([]byte(c.Value))
		if s := h.users.Sessions(); len(s) != 1 || s[0] != hex.EncodeToString(sum[:]) {
			t.Errorf("stored sessions = %v, want only the token's sha256", s)
		}
		resp = h.Follow(resp)
		wantStatus(t, resp, http.StatusOK)
		if who := MustDoc(t, resp).Find(".who").Text(); !strings.Contains(who, "mod1") {
			t.Errorf("logged-in user not shown: %q", who)
		}
	})

	t.Run("UsernameIsForgivingAboutCaseAndSpace", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		wantStatus(t, h.Login(" MOD1 ", testPassword), http.StatusSeeOther)
	})

	t.Run("WithoutCSRFIs403", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.Get("/dashboard/login")
		resp := h.Post("/dashboard/login", url.Values{"username": {"mod1"}, "password": {testPassword}})
		wantStatus(t, resp, http.StatusForbidden)
		if len(h.users.Sessions()) != 0 {
			t.Error("session created by a login without CSRF token")
		}
	})

	t.Run("ReturnsToThePageAskedFor", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		e := h.MustEntry("hi")
		resp := h.Get("/dashboard/entries/" + e.ID)
		wantStatus(t, resp, http.StatusSeeOther)
		doc := MustDoc(t, h.Follow(resp))
		next, _ := doc.Find(`input[name=next]`).Attr("value")
		resp = h.Submit("/dashboard/login", url.Values{"username": {"mod1"}, "password": {testPassword}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/dashboard/entries/"+e.ID {
			t.Errorf("Location = %q, want the entry", loc)
		}
	})

	t.Run("RefusesToRedirectOffSite", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.Get("/dashboard/login")
		for _, next := range []string{"https://evil.example/", "//evil.example/dashboard/", "/dashboard/\\evil", "/elsewhere"} {
			h.Get("/dashboard/login")
			resp := h.Submit("/dashboard/login", url.Values{"username": {"mod1"}, "password": {testPassword}, "next": {next}})
			if loc := resp.Header.Get("Location"); loc != "/dashboard/entries" {
				t.Errorf("next=%q: Location = %q", next, loc)
			}
		}
	})
}

func TestSession(t *testing.T) {
	t.Run("NoSessionRedirectsPagesToLogin", func(t *testing.T) {
		h := newHarness(t)
		for _, path := range []string{"/dashboard/", "/dashboard/entries", "/dashboard/entries/x", "/dashboard/entries/x/thumb"} {
			resp := h.Get(path)
			wantStatus(t, resp, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/dashboard/login") {
				t.Errorf("%s: Location = %q", path, loc)
			}
		}
	})

	t.Run("NoSessionPostIs401AndChangesNothing", func(t *testing.T) {
		h := newHarness(t)
		e := h.MustEntry("hi")
		h.Get("/dashboard/login")
		wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusUnauthorized)
		if got := h.Entry(e.ID).Status; got != judge.StatusPending {
			t.Errorf("status = %s", got)
		}
	})

	t.Run("ExpiresAfterTTL", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		wantStatus(t, h.Get("/dashboard/entries"), http.StatusOK)
		h.clock.Advance(dashboard.DefaultSessionTTL + time.Minute)
		wantStatus(t, h.Get("/dashboard/entries"), http.StatusSeeOther)
	})

	t.Run("LogoutEndsTheSession", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		old := h.jar["dashboard_session"]
		resp := h.Submit("/dashboard/logout", nil)
		wantStatus(t, resp, http.StatusSeeOther)
		wantStatus(t, h.Get("/dashboard/entries"), http.StatusSeeOther)
		// The old cookie, replayed, no longer works: the session is gone from the store.
		h.jar["dashboard_session"] = old
		wantStatus(t, h.Get("/dashboard/entries"), http.StatusSeeOther)
	})
}

func TestCSRF(t *testing.T) {
	for name, token := range map[string]*string{"Missing": nil, "Wrong": ptr("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")} {
		t.Run(name+"TokenIs403AndChangesNothing", func(t *testing.T) {
			h := newHarness(t)
			h.MustUser("mod1", dashboard.RoleModerator)
			h.MustLogin("mod1")
			e := h.MustEntry("hi")
			form := url.Values{}
			if token != nil {
				form.Set("csrf", *token)
			}
			resp := h.Post("/dashboard/entries/"+e.ID+"/approve", form)
			wantStatus(t, resp, http.StatusForbidden)
			if msg := MustDoc(t, resp).Find(".message").Text(); msg != "This form has expired. Reload the page and try again." {
				t.Errorf("message = %q", msg)
			}
			if got := h.Entry(e.ID); got.Status != judge.StatusPending {
				t.Errorf("entry changed: %+v", got)
			}
			if ev := h.VerdictEvents(e.ID); len(ev) != 0 {
				t.Errorf("verdict events queued: %v", ev)
			}
		})
	}

	t.Run("CookieIsStrictAndEveryFormCarriesIt", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		h.MustEntry("hi")
		doc := MustDoc(t, h.Get("/dashboard/entries"))
		c := h.jar["dashboard_csrf"]
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("csrf cookie HttpOnly=%v SameSite=%v", c.HttpOnly, c.SameSite)
		}
		forms := doc.Find("form[method=post]")
		if forms.Length() < 3 {
			t.Fatalf("%d forms, want logout, approve and reject", forms.Length())
		}
		want := dashboard.SessionCSRF(h.jar["dashboard_session"].Value)
		forms.Each(func(_ int, f *goquery.Selection) {
			if v, _ := f.Find(`input[name=csrf]`).Attr("value"); v != want {
				action, _ := f.Attr("action")
				t.Errorf("form %s: csrf field %q, want the session's token", action, v)
			}
		})
	})
}

func TestEntries(t *testing.T) {
	t.Run("ListShowsPendingEntryWithThumbnail", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("Let me in, Sven!")

		resp := h.Get("/dashboard/entries")
		wantStatus(t, resp, http.StatusOK)
		doc := MustDoc(t, resp)
		entry := doc.Find(`.entry[data-id="` + e.ID + `"]`)
		if entry.Length() != 1 {
			t.Fatalf("entry %s not listed", e.ID)
		}
		if src, _ := entry.Find("img.thumb").Attr("src"); src != "/dashboard/entries/"+e.ID+"/thumb" {
			t.Errorf("thumbnail src = %q", src)
		}
		for sel, want := range map[string]string{
			".campaign": "bouncer", ".participant": e.ParticipantID[:8], ".status": "pending",
			".caption": "Let me in, Sven!",
		} {
			if got := strings.TrimSpace(entry.Find(sel).Text()); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if entry.Find("button.approve").Length() != 1 || entry.Find("button.reject").Length() != 1 {
			t.Error("approve and reject buttons missing")
		}
		html, _ := doc.Html()
		if strings.Contains(html, strings.TrimPrefix(testPhone, "+")) || strings.Contains(html, e.ParticipantID) {
			t.Error("page shows a phone number or the full participant id")
		}
	})

	t.Run("TabsFilterByStatus", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		a, b := h.MustEntry("a"), h.MustEntry("b")
		wantStatus(t, h.Submit("/dashboard/entries/"+a.ID+"/approve", nil), http.StatusSeeOther)

		for status, want := range map[string][]string{
			"": {b.ID}, "pending": {b.ID}, "approved": {a.ID}, "rejected": nil, "all": {b.ID, a.ID},
		} {
			doc := MustDoc(t, h.Get("/dashboard/entries?status="+status))
			var got []string
			doc.Find(".entry").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-id")
				got = append(got, id)
			})
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("status %q: entries %v, want %v", status, got, want)
			}
		}
		approved := MustDoc(t, h.Get("/dashboard/entries?status=approved")).Find(".entry")
		if approved.Find("button").Length() != 0 {
			t.Error("decided entry still has buttons")
		}
		wantStatus(t, h.Get("/dashboard/entries?status=%7B%22%24ne%22%3A1%7D"), http.StatusBadRequest)
	})

	t.Run("CaptionIsEscaped", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		caption := `<script>alert("pwned")</script><img src=x onerror=alert(1)>`
		e := h.MustEntry(caption)

		for _, path := range []string{"/dashboard/entries", "/dashboard/entries/" + e.ID} {
			body := MustBody(t, h.Get(path))
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: caption rendered as HTML", path)
			}
			if !strings.Contains(body, "&lt;script&gt;") {
				t.Errorf("%s: escaped caption missing", path)
			}
		}
		doc := MustDoc(t, h.Get("/dashboard/entries"))
		if got := doc.Find(".caption").Text(); got != caption {
			t.Errorf("caption text = %q, want it shown literally", got)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if src, _ := s.Attr("src"); src != "/dashboard/static/app.js" {
				t.Errorf("unexpected script element: %v", s.Text())
			}
		})
	})

	t.Run("DetailShowsMediaAndDecision", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("look")
		doc := MustDoc(t, h.Get("/dashboard/entries/"+e.ID))
		if src, _ := doc.Find("img.media-full").Attr("src"); src != "/dashboard/entries/"+e.ID+"/media" {
			t.Errorf("media src = %q", src)
		}
		if doc.Find(`form textarea[name=reason]`).Length() != 1 {
			t.Error("no reason field on reject")
		}
		wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/reject", url.Values{"reason": {"blurry"}}), http.StatusSeeOther)
		doc = MustDoc(t, h.Get("/dashboard/entries/"+e.ID))
		if got := doc.Find(".decided-by").Text(); !strings.Contains(got, "mod1") {
			t.Errorf("decided by = %q", got)
		}
		if got := doc.Find(".reason").Text(); got != "blurry" {
			t.Errorf("reason = %q", got)
		}
		if doc.Find("button.approve, button.reject").Length() != 0 {
			t.Error("decided entry still has buttons")
		}
	})

	t.Run("UnknownEntryIs404", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		wantStatus(t, h.Get("/dashboard/entries/nope"), http.StatusNotFound)
	})
}

func TestDecide(t *testing.T) {
	t.Run("ApproveFlashesAndQueuesVerdict", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")

		resp := h.Submit("/dashboard/entries/"+e.ID+"/approve", url.Values{"back": {"/dashboard/entries?status=pending"}})
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/dashboard/entries?status=pending" {
			t.Errorf("Location = %q", loc)
		}
		doc := MustDoc(t, h.Follow(resp))
		if got := doc.Find(".flash").Text(); got != "Entry approved." {
			t.Errorf("flash = %q", got)
		}
		got := h.Entry(e.ID)
		if got.Status != judge.StatusApproved || got.DecidedBy != "mod1" || !got.DecidedAt.Equal(h.clock.Now()) {
			t.Errorf("entry = %s by %q at %v", got.Status, got.DecidedBy, got.DecidedAt)
		}
		ev := h.VerdictEvents(e.ID)
		if len(ev) != 1 || ev[0].Verdict != judge.StatusApproved || ev[0].ParticipantID != e.ParticipantID {
			t.Fatalf("verdict events = %+v", ev)
		}
		// The flash shows once.
		if MustDoc(t, h.Get("/dashboard/entries")).Find(".flash").Length() != 0 {
			t.Error("flash shown twice")
		}
	})

	t.Run("RejectFlashesAndQueuesVerdict", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("judge1", dashboard.RoleJudge)
		h.MustLogin("judge1")
		e := h.MustEntry("hi")
		resp := h.Submit("/dashboard/entries/"+e.ID+"/reject", nil)
		wantStatus(t, resp, http.StatusSeeOther)
		if got := MustDoc(t, h.Follow(resp)).Find(".flash").Text(); got != "Entry rejected." {
			t.Errorf("flash = %q", got)
		}
		if got := h.Entry(e.ID).Status; got != judge.StatusRejected {
			t.Errorf("status = %s", got)
		}
		if ev := h.VerdictEvents(e.ID); len(ev) != 1 || ev[0].Verdict != judge.StatusRejected {
			t.Errorf("verdict events = %+v", ev)
		}
	})

	t.Run("SecondVerdictIsAConflictAndChangesNothing", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustUser("mod2", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusSeeOther)
		h.Get("/dashboard/entries") // consume the first flash

		h.MustLogin("mod2")
		for _, verdict := range []string{"reject", "approve"} {
			resp := h.Submit("/dashboard/entries/"+e.ID+"/"+verdict, url.Values{"back": {"/dashboard/entries/" + e.ID}})
			wantStatus(t, resp, http.StatusSeeOther)
			doc := MustDoc(t, h.Follow(resp))
			if got := doc.Find(".flash").Text(); got != "This entry was already decided by mod1." {
				t.Errorf("%s: flash = %q", verdict, got)
			}
		}
		if got := h.Entry(e.ID); got.Status != judge.StatusApproved || got.DecidedBy != "mod1" {
			t.Errorf("entry changed: %s by %s", got.Status, got.DecidedBy)
		}
		if ev := h.VerdictEvents(e.ID); len(ev) != 1 {
			t.Errorf("%d verdict events, want 1", len(ev))
		}
	})

	t.Run("UnknownEntryIs404", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		resp := h.Submit("/dashboard/entries/nope/approve", nil)
		wantStatus(t, resp, http.StatusNotFound)
		if MustDoc(t, resp).Find(".message").Text() != "Not found." {
			t.Error("no not-found page")
		}
	})

	t.Run("BackNeverLeavesTheDashboard", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		resp := h.Submit("/dashboard/entries/"+e.ID+"/approve", url.Values{"back": {"https://evil.example/"}})
		if loc := resp.Header.Get("Location"); loc != "/dashboard/entries" {
			t.Errorf("Location = %q", loc)
		}
	})
}

func TestMedia(t *testing.T) {
	t.Run("ThumbnailStreamsTheEntrysThumb", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		for path, want := range map[string]string{"thumb": "thumb-" + e.ID, "media": "full-" + e.ID} {
			resp := h.Get("/dashboard/entries/" + e.ID + "/" + path)
			wantStatus(t, resp, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
				t.Errorf("%s: Content-Type = %q", path, ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "private" {
				t.Errorf("%s: Cache-Control = %q", path, cc)
			}
			if body := MustBody(t, resp); body != want {
				t.Errorf("%s: body = %q, want %q", path, body, want)
			}
		}
		if got := h.media.Opened(); len(got) != 2 || got[0] != e.ThumbKey && got[1] != e.ThumbKey {
			t.Errorf("opened %v", got)
		}
	})

	t.Run("UnknownEntryIs404", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		wantStatus(t, h.Get("/dashboard/entries/nope/thumb"), http.StatusNotFound)
		wantStatus(t, h.Get("/dashboard/entries/"+url.PathEscape("thumbs/1.jpg")+"/thumb"), http.StatusNotFound)
		if got := h.media.Opened(); len(got) != 0 {
			t.Errorf("media opened for unknown entries: %v", got)
		}
	})

	t.Run("MissingObjectIs404", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		h.media.mu.Lock()
		delete(h.media.objects, e.ThumbKey)
		h.media.mu.Unlock()
		wantStatus(t, h.Get("/dashboard/entries/"+e.ID+"/thumb"), http.StatusNotFound)
	})

	t.Run("NonMediaTypesAreDownloads", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		h.media.Put(e.MediaKey, "text/html", []byte("<script>alert(1)</script>"))
		resp := h.Get("/dashboard/entries/" + e.ID + "/media")
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != "attachment" {
			t.Errorf("Content-Disposition = %q", cd)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	resp := h.Get("/dashboard/login")
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, path := range []string{"/dashboard/static/app.js", "/dashboard/static/app.css"} {
		wantStatus(t, h.Get(path), http.StatusOK)
	}
	wantStatus(t, h.Get("/dashboard/static/nothing.js"), http.StatusNotFound)
}

func TestAddUser(t *testing.T) {
	long := strings.Repeat("a", 65)
	for _, c := range []struct {
		name, username, password, role string
		want                           error
	}{
		{"Valid", "mod.one_2-x", "0123456789", dashboard.RoleModerator, nil},
		{"ValidJudge", "abc", "0123456789", dashboard.RoleJudge, nil},
		{"ValidLongest", long[:64], "0123456789", dashboard.RoleAdmin, nil},
		{"UsernameTooShort", "ab", "0123456789", dashboard.RoleAdmin, errs.ErrInvalid},
		{"UsernameTooLong", long, "0123456789", dashboard.RoleAdmin, errs.ErrInvalid},
		{"UsernameUpperCase", "Admin", "0123456789", dashboard.RoleAdmin, errs.ErrInvalid},
		{"UsernameSpace", "a b c", "0123456789", dashboard.RoleAdmin, errs.ErrInvalid},
		{"UsernameUnicode", "jösé", "0123456789", dashboard.RoleAdmin, errs.ErrInvalid},
		{"PasswordTooShort", "shorty", "012345678", dashboard.RoleAdmin, errs.ErrInvalid},
		{"PasswordTooLongForBcrypt", "longpw", strings.Repeat("p", 73), dashboard.RoleAdmin, errs.ErrInvalid},
		{"UnknownRole", "roleless", "0123456789", "owner", errs.ErrInvalid},
		{"EmptyRole", "roleless", "0123456789", "", errs.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			u, err := accounts.AddUser(context.Background(), h.db, c.username, c.password, c.role)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil {
				return
			}
			if u.ID == 0 || u.Username != c.username || u.Role != c.role {
				t.Errorf("user = %+v", u)
			}
			if strings.Contains(string(u.PasswordHash), c.password) || !strings.HasPrefix(string(u.PasswordHash), "$2") {
				t.Errorf("password not stored as a bcrypt hash: %q", u.PasswordHash)
			}
		})
	}

	t.Run("TakenUsernameIsConflict", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		_, err := accounts.AddUser(context.Background(), h.db, "mod1", "0123456789", dashboard.RoleJudge)
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("err = %v, want conflict", err)
		}
	})
}

func TestEnsureAdmin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pw, err := accounts.EnsureAdmin(ctx, h.db)
	if err != nil || len(pw) < accounts.MinPasswordLen {
		t.Fatalf("first EnsureAdmin = %q, %v", pw, err)
	}
	u, err := h.db.UserByName(ctx, "admin")
	if err != nil || u.Role != dashboard.RoleAdmin {
		t.Fatalf("admin user = %+v, %v", u, err)
	}
	wantStatus(t, h.Login("admin", pw), http.StatusSeeOther)

	again, err := accounts.EnsureAdmin(ctx, h.db)
	if err != nil || again != "" {
		t.Errorf("second EnsureAdmin = %q, %v; want no new password", again, err)
	}
	if n, _ := h.db.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestEnsureAdminLeavesExistingUsers(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod1", dashboard.RoleModerator)
	pw, err := accounts.EnsureAdmin(context.Background(), h.db)
	if err != nil || pw != "" {
		t.Errorf("EnsureAdmin = %q, %v", pw, err)
	}
	if _, err := h.db.UserByName(context.Background(), "admin"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("admin created although users existed: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestUnknownPageIs404(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	resp := h.Get("/dashboard/nowhere")
	wantStatus(t, resp, http.StatusNotFound)
	if got := MustDoc(t, resp).Find(".message").Text(); got != "Not found." {
		t.Errorf("message = %q", got)
	}
}

func TestUnknownRoleMayNotJudge(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// A role from a later version, or a bad import: it must not get judging rights by default.
	admin := h.MustUser("mod1", dashboard.RoleModerator)
	if _, err := h.db.CreateUser(ctx, dashboard.User{Username: "viewer", Role: "viewer", PasswordHash: admin.PasswordHash}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	e := h.MustEntry("hi")
	h.MustLogin("viewer")
	wantStatus(t, h.Get("/dashboard/entries"), http.StatusForbidden)
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusForbidden)
	if got := h.Entry(e.ID).Status; got != judge.StatusPending {
		t.Errorf("status = %s", got)
	}
}
