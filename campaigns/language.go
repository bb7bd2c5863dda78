package campaigns

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The keys of each part of the language. docs/definitions.md describes every one; keep the two
// in step.
var (
	topKeys        = []string{"id", "title", "languages", "channels", "whatsapp", "schedule", "keywords", "consent", "persona", "pools", "teams", "rounds", "rubric", "judging", "ranking", "templates", "retention_days", "opt_out", "opt_out_say", "rejoin", "repeat", "finished", "fallback", "start", "states"}
	stateKeys      = []string{"say", "final", "finished", "handoff", "fallback", "on"}
	triggerKeys    = []string{"text", "regex", "media", "choice", "location", "after", "verdict", "round", "handback", "optout", "entered"}
	transitionKeys = append(append([]string{}, triggerKeys...), "if", "count", "max_size", "outside", "save", "set", "add", "collect", "take", "full", "issue_code", "notify", "say", "goto", "end")
	messageKeys    = []string{"text", "buttons", "media", "template"}
	consentKeys    = []string{"text", "yes", "no", "yes_button", "no_button", "hint", "declined"}
	saveKinds      = []string{"text", "number", "email", "phone", "date", "age"}
)

var (
	langRe         = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	templateLangRe = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	varNameRe      = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	digitsRe       = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// engineVars are set by the engine itself and cannot be the target of a save, set or add
// action: writing one would break what the engine keeps in it (a hand-off, a place, a code).
var engineVars = []string{"code", "persona", "places_left", "round", "team", "entry",
	"consent", "consent_at", "consent_by", "consent_channel", "consent_version",
	"lat", "lng", "place", "handoff", "collected", "eliminated", "agent",
	"rank", "rank_of", "top", "handoff_at", VarSender}

// Limits WhatsApp puts on interactive messages; the other channels are laxer.
const (
	maxButtonTitle = 20
	maxButtons     = 3  // more become a list
	maxListRows    = 10 // a list's limit
)

func (p *parser) definition(root *yaml.Node) {
	def := p.def
	fs := p.mapping(root, "the definition", topKeys...)
	if fs == nil {
		return // not a mapping: reported
	}
	for _, req := range []string{"id", "start", "states"} {
		if _, ok := fs[req]; !ok {
			p.errf(root, "missing required key %q", req)
		}
	}
	if f, ok := fs["id"]; ok {
		def.ID = p.str(f, "id")
		def.idNode = f.val
		if def.ID != "" && !idRe.MatchString(def.ID) {
			p.errf(f.val, "id %q must be lower-case letters, digits, - and _ (it appears in URLs)", def.ID)
		}
	}
	if f, ok := fs["title"]; ok {
		def.Title = p.str(f, "title")
	}
	if def.Title == "" {
		def.Title = def.ID
	}
	if f, ok := fs["languages"]; ok {
		p.languages(f)
	}
	if f, ok := fs["channels"]; ok {
		p.channels(f)
	}
	if f, ok := fs["whatsapp"]; ok {
		ws := p.mapping(f.val, "whatsapp", "phone_number_id")
		if g, ok := ws["phone_number_id"]; ok {
			def.WhatsAppNumber = p.str(g, "whatsapp phone_number_id")
			if def.WhatsAppNumber != "" && !digitsRe.MatchString(def.WhatsAppNumber) {
				p.errf(g.val, "whatsapp phone_number_id %q must be digits only: it is the id Meta shows for the number, not the number itself", def.WhatsAppNumber)
			}
			if !def.RunsOn("whatsapp") {
				p.warnf(g.key, "whatsapp phone_number_id is set, but channels does not include whatsapp")
			}
		}
	}
	def.Schedule.Location = time.UTC
	if f, ok := fs["schedule"]; ok {
		p.schedule(f)
	}
	if f, ok := fs["opt_out"]; ok {
		def.OptOut, _ = p.strList(f, "opt_out")
	}
	if f, ok := fs["keywords"]; ok {
		p.keywords(f)
	}
	if f, ok := fs["opt_out_say"]; ok {
		def.OptOutSay = p.text(f.val, "opt_out_say")
	}
	if f, ok := fs["rejoin"]; ok {
		p.rejoin(f)
	} else {
		def.Rejoin = DefaultRejoin
		p.checkDefaultRejoin(fs["opt_out"])
	}
	if f, ok := fs["repeat"]; ok {
		def.Repeat = p.boolean(f, "repeat")
	}
	if f, ok := fs["finished"]; ok {
		def.Finished = p.text(f.val, "finished")
	}
	if f, ok := fs["consent"]; ok {
		p.consent(f)
	}
	if f, ok := fs["fallback"]; ok {
		def.Fallback = p.text(f.val, "fallback")
	}
	if f, ok := fs["persona"]; ok {
		p.persona(f.val, &def.Persona)
	}
	if f, ok := fs["pools"]; ok {
		p.pools(f)
	}
	if f, ok := fs["teams"]; ok {
		p.teams(f)
	}
	if f, ok := fs["rounds"]; ok {
		p.rounds(f)
	}
	if f, ok := fs["rubric"]; ok {
		p.rubric(f)
	}
	if f, ok := fs["judging"]; ok {
		p.judging(f) // after the rubric: panels, locks and normalisation are about its scores
	}
	if f, ok := fs["templates"]; ok {
		p.templates(f)
	}
	if f, ok := fs["retention_days"]; ok {
		def.RetentionDays = p.integer(f, "retention_days", 0)
	}
	if f, ok := fs["states"]; ok {
		p.states(f.val)
	}
	if f, ok := fs["ranking"]; ok {
		p.ranking(f) // after the states: it checks the saves into its variable
	}
	if f, ok := fs["start"]; ok {
		def.Start = p.name(f, "start")
		if def.Start != "" && len(def.States) > 0 && def.States[def.Start] == nil {
			p.errf(f.val, "start state %q is not defined%s", def.Start, didYouMean(def.Start, def.Order))
		}
	}
	p.validate()
}

// consent reads the consent question: a text, or a mapping with the text and what answers it.
func (p *parser) consent(f field) {
	def := p.def
	n := f.val
	defer func() {
		for _, l := range def.Languages {
			if _, ok := consentLanguage(l); !ok && len(def.ConsentAnswers.Yes) == 0 && def.Consent != nil {
				p.warnf(f.key, "consent: there are no built-in yes and no words for %q; only the English ones and the buttons agree (add yours under consent yes: and no:)", l)
			}
		}
	}()
	if n.Kind != yaml.MappingNode || !consentForm(n, def.Languages) {
		def.Consent = p.text(n, "consent")
		return
	}
	fs := p.mapping(n, "consent", consentKeys...)
	if g, ok := fs["text"]; ok {
		def.Consent = p.text(g.val, "consent")
	} else {
		// Read on: the rest of the consent is checked in the same run.
		p.errf(n, "consent needs text: the question the participant answers yes or no to")
	}
	a := &def.ConsentAnswers
	var yesNodes, noNodes []*yaml.Node
	if g, ok := fs["yes"]; ok {
		a.Yes, yesNodes = p.strList(g, "consent yes")
	}
	if g, ok := fs["no"]; ok {
		a.No, noNodes = p.strList(g, "consent no")
	}
	for i, w := range a.Yes {
		if matchesAny(w, a.No) {
			p.errf(yesNodes[i], "consent word %q is both a yes and a no", w)
		}
	}
	for i, words := range [][]string{a.Yes, a.No} {
		nodes := [][]*yaml.Node{yesNodes, noNodes}[i]
		for j, w := range words {
			if matchesAny(w, DefaultOptOut) || matchesAny(w, def.OptOut) {
				p.errf(nodes[j], "consent word %q is an opt-out word; an opt-out word always opts out", w)
			}
		}
	}
	for _, k := range []struct {
		key string
		t   *Text
	}{{"yes_button", &a.YesButton}, {"no_button", &a.NoButton}, {"hint", &a.Hint}, {"declined", &a.Declined}} {
		g, ok := fs[k.key]
		if !ok {
			continue
		}
		*k.t = p.text(g.val, "consent "+k.key)
		if k.key == "yes_button" || k.key == "no_button" {
			for _, l := range def.Languages {
				if s, ok := (*k.t)[l]; ok && utf8.RuneCountInString(s) > maxButtonTitle {
					p.errf(g.val, "button title %q is %d characters; WhatsApp allows at most %d", s, utf8.RuneCountInString(s), maxButtonTitle)
				}
			}
		}
	}
}

// consentForm reports whether a consent mapping is the long form (text, yes, no, ...) rather
// than a text by language; a language may be called "no" (Norwegian).
func consentForm(n *yaml.Node, langs []string) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; contains(consentKeys, k) && !contains(langs, k) {
			return true
		}
	}
	return false
}

// matchesAny reports whether w is one of words, compared as consent replies are.
func matchesAny(w string, words []string) bool {
	for _, o := range words {
		if normConsent(o) == normConsent(w) {
			return true
		}
	}
	return false
}

func (p *parser) languages(f field) {
	langs, nodes := p.strList(f, "languages")
	var out []string
	for i, l := range langs {
		parts := strings.Split(l, ",")
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		switch {
		case len(parts) > 1 && f.val.Kind == yaml.ScalarNode && allMatch(langRe, parts):
			// languages: nl, en is one string in YAML; read it as the list it was meant to be,
			// so the texts in nl are not each reported too.
			p.errf(nodes[i], "languages %q must be a list: write languages: [%s]", l, strings.Join(parts, ", "))
			for _, x := range parts {
				if !contains(out, x) {
					out = append(out, x)
				}
			}
		case !langRe.MatchString(l):
			p.badLangs = true // the texts' languages cannot be checked against the list
			p.errf(nodes[i], "language %q must be a code like en, nl or pt-BR", l)
		case contains(out, l):
			p.errf(nodes[i], "language %q is listed twice", l)
		default:
			out = append(out, l)
		}
	}
	if len(out) > 0 {
		p.def.Languages = out
	}
}

func allMatch(re *regexp.Regexp, ss []string) bool {
	for _, s := range ss {
		if !re.MatchString(s) {
			return false
		}
	}
	return true
}

func (p *parser) channels(f field) {
	chans, nodes := p.strList(f, "channels")
	for i, c := range chans {
		switch {
		case !contains(ChannelNames, c):
			p.errf(nodes[i], "unknown channel %q; use %s%s", c, strings.Join(ChannelNames, ", "), didYouMean(c, ChannelNames))
		case contains(p.def.Channels, c):
			p.errf(nodes[i], "channel %q is listed twice", c)
		default:
			p.def.Channels = append(p.def.Channels, c)
		}
	}
}

func (p *parser) schedule(f field) {
	s := &p.def.Schedule
	fs := p.mapping(f.val, "schedule", "start", "end", "hard_stop", "timezone")
	if g, ok := fs["timezone"]; ok {
		if name := p.str(g, "schedule timezone"); name != "" {
			loc, err := time.LoadLocation(name)
			if err != nil || name == "Local" || strings.ContainsAny(name, "\\") {
				p.errf(g.val, "schedule timezone %q is not a time zone (write it like Europe/Amsterdam or UTC)", name)
			} else {
				s.Location = loc
			}
		}
	}
	if g, ok := fs["start"]; ok {
		s.start = p.moment(g, "schedule start", s.Location)
	}
	if g, ok := fs["end"]; ok {
		s.end = p.moment(g, "schedule end", s.Location)
		if before, ok := s.start.before(s.end); ok && !before {
			p.errf(g.val, "schedule ends (%s) before it starts (%s)", s.end, s.start)
		} else if s.start.set() && s.end.set() && s.end.fromLaunch && !s.start.fromLaunch {
			// The two cannot be compared before the launch; the usual slip is a launch
			// well ahead of a dated start.
			p.warnf(g.val, "schedule end (%s) counts from the launch but start (%s) is a date: launched long before the start, it would end before it opens (write both as dates, or both as times after launch)", s.end, s.start)
		}
	}
	if g, ok := fs["hard_stop"]; ok {
		s.hardStop = p.moment(g, "schedule hard_stop", s.Location)
		if !s.end.set() && s.hardStop.set() {
			p.errf(g.key, "schedule hard_stop needs an end: it is when those who joined before the end stop being answered")
		} else if before, ok := s.hardStop.before(s.end); ok && before {
			p.errf(g.val, "schedule hard_stop (%s) is before the schedule ends (%s)", s.hardStop, s.end)
		}
	}
	// Dates are times now; times after launch become times when the engine anchors the
	// definition to its launch.
	s.Start, s.End, s.HardStop = s.start.at, s.end.at, s.hardStop.at
}

// keywords reads the entry keywords: a list, or a mapping of language to a list, in which case
// a stranger who joins with a keyword gets its language.
func (p *parser) keywords(f field) {
	if f.val.Kind != yaml.MappingNode {
		words, nodes := p.strList(f, "keywords")
		p.addKeywords(words, nodes, "")
		return
	}
	if len(f.val.Content) == 0 {
		p.errf(f.val, "keywords is empty")
	}
	langs := p.def.Languages
	for i := 0; i+1 < len(f.val.Content); i += 2 {
		k, v := f.val.Content[i], f.val.Content[i+1]
		if k.Kind == yaml.ScalarNode && !contains(langs, k.Value) && p.badLangs {
			continue
		}
		if k.Kind != yaml.ScalarNode || !contains(langs, k.Value) {
			p.errf(k, "keywords: %q is not a language of languages (%s); write keywords as a list, or by language like keywords: {%s: [WORD]}", k.Value, strings.Join(langs, ", "), langs[0])
			continue
		}
		words, nodes := p.strList(field{key: k, val: v}, "keywords "+k.Value)
		p.addKeywords(words, nodes, k.Value)
	}
}

// addKeywords checks and adds entry keywords of one language ("" when written as a list).
func (p *parser) addKeywords(words []string, nodes []*yaml.Node, lang string) {
	optOut := append(append([]string{}, DefaultOptOut...), p.def.OptOut...)
	for i, w := range words {
		norm := normKeyword(w)
		dup := false
		for _, k := range p.def.Keywords {
			dup = dup || normKeyword(k) == norm
		}
		isOptOut := false
		for _, o := range optOut {
			isOptOut = isOptOut || normKeyword(o) == norm
		}
		switch {
		case dup:
			p.errf(nodes[i], "entry keyword %q is listed twice", w)
		case isOptOut:
			p.errf(nodes[i], "entry keyword %q is an opt-out word; nobody could join with it", w)
		default:
			p.def.Keywords = append(p.def.Keywords, w)
			p.def.keywordNodes = append(p.def.keywordNodes, nodes[i])
			if lang != "" {
				if p.def.KeywordLanguages == nil {
					p.def.KeywordLanguages = map[string]string{}
				}
				p.def.KeywordLanguages[norm] = lang
			}
		}
	}
}

// rejoin reads the words that bring an opted-out participant back, checked as entry keywords
// are: an opt-out word could never do it.
func (p *parser) rejoin(f field) {
	words, nodes := p.strList(f, "rejoin")
	optOut := append(append([]string{}, DefaultOptOut...), p.def.OptOut...)
	for i, w := range words {
		norm := normKeyword(w)
		switch {
		case containsFunc(p.def.Rejoin, func(k string) bool { return normKeyword(k) == norm }):
			p.errf(nodes[i], "rejoin word %q is listed twice", w)
		case containsFunc(optOut, func(o string) bool { return normKeyword(o) == norm }):
			p.errf(nodes[i], "rejoin word %q is an opt-out word; nobody could come back with it", w)
		default:
			p.def.Rejoin = append(p.def.Rejoin, w)
			p.def.rejoinNodes = append(p.def.rejoinNodes, nodes[i])
		}
	}
}

// checkDefaultRejoin reports an opt-out word that takes the default rejoin word away: the way
// back must stay open.
func (p *parser) checkDefaultRejoin(f field) {
	for _, w := range p.def.OptOut {
		if containsFunc(DefaultRejoin, func(r string) bool { return normKeyword(r) == normKeyword(w) }) {
			p.errf(f.val, "opt-out word %q is the default rejoin word; set rejoin: to the word that brings an opted-out participant back", w)
		}
	}
}

func containsFunc(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}

func (p *parser) persona(n *yaml.Node, out *Persona) {
	fs := p.mapping(n, "persona", "name", "delay")
	if f, ok := fs["name"]; ok {
		out.Name = p.str(f, "persona name")
	}
	if f, ok := fs["delay"]; ok {
		ds := p.mapping(f.val, "persona delay", "min", "per_char", "max")
		if g, ok := ds["min"]; ok {
			out.DelayMin = p.duration(g, "delay min")
		}
		if g, ok := ds["per_char"]; ok {
			out.DelayPerChar = p.duration(g, "delay per_char")
		}
		if g, ok := ds["max"]; ok {
			out.DelayMax = p.duration(g, "delay max")
			if out.DelayMax < out.DelayMin {
				p.errf(g.val, "delay max (%s) is shorter than delay min (%s)", out.DelayMax, out.DelayMin)
			}
		}
		if out.DelayMin > time.Minute || out.DelayMax > 5*time.Minute {
			p.warnf(f.val, "a persona delay over a minute feels like a broken bot, not a person typing")
		}
	}
}

// named walks a mapping of names to bodies (pools, templates, states), checking each name.
func (p *parser) named(n *yaml.Node, what string, each func(key, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "%s must be a mapping of names to %s, with at least one", what, what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !idRe.MatchString(k.Value) {
			p.errf(k, "%s name %q must be lower-case letters, digits, - and _", strings.TrimSuffix(what, "s"), k.Value)
			continue
		}
		if seen[k.Value] {
			p.errf(k, "%s %q is defined twice", strings.TrimSuffix(what, "s"), k.Value)
			continue
		}
		seen[k.Value] = true
		each(k, v)
	}
}

func (p *parser) pools(f field) {
	p.def.Pools = map[string]*Pool{}
	p.named(f.val, "pools", func(k, v *yaml.Node) {
		pool := &Pool{Name: k.Value}
		fs := p.mapping(v, fmt.Sprintf("pool %q", k.Value), "capacity", "codes")
		c, hasCapacity := fs["capacity"]
		g, hasCodes := fs["codes"]
		switch {
		case hasCapacity && hasCodes:
			p.errf(c.key, "pool %q has both capacity and codes; the capacity of a code pool is its number of codes", k.Value)
		case hasCapacity:
			pool.Capacity = p.integer(c, "capacity", 1)
		case hasCodes:
			p.poolCodes(pool, g)
			pool.Capacity = len(pool.Codes)
		case fs != nil:
			p.errf(v, "pool %q needs a capacity: how many places it has (or codes: the codes it hands out)", k.Value)
		}
		p.def.Pools[k.Value] = pool
		if p.keyOf == nil {
			p.keyOf = map[string]*yaml.Node{}
		}
		p.keyOf["pool "+k.Value] = k
	})
}

func (p *parser) teams(f field) {
	fs := p.mapping(f.val, "teams", "min", "max")
	t := &Teams{MinSize: 1}
	if p.keyOf == nil {
		p.keyOf = map[string]*yaml.Node{}
	}
	if g, ok := fs["min"]; ok {
		t.MinSize = p.integer(g, "teams min", 1)
		p.keyOf["teams min"] = g.val
	}
	if g, ok := fs["max"]; ok {
		t.MaxSize = p.integer(g, "teams max", 1)
		p.keyOf["teams max"] = g.val
		if t.MaxSize > 0 && t.MaxSize < t.MinSize {
			p.errf(g.val, "teams max (%d) is smaller than teams min (%d)", t.MaxSize, t.MinSize)
		}
	}
	p.def.Teams = t
}

func (p *parser) rounds(f field) {
	n := f.val
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "rounds must be a list of rounds, with at least one")
		return
	}
	loc := p.def.Schedule.Location
	var prevEnd moment
	for i, item := range n.Content {
		what := fmt.Sprintf("round %d", i+1)
		fs := p.mapping(item, what, "name", "assignment", "starts", "deadline", "duration", "advance")
		if fs == nil {
			continue
		}
		r := &Round{}
		if g, ok := fs["name"]; ok {
			r.Name = p.name(g, what+" name")
			for _, o := range p.def.Rounds {
				if o.Name == r.Name && r.Name != "" {
					p.errf(g.val, "round %q is defined twice", r.Name)
				}
			}
		} else {
			p.errf(item, "%s needs a name", what)
		}
		if r.Name != "" {
			what = fmt.Sprintf("round %q", r.Name)
		}
		if g, ok := fs["assignment"]; ok {
			r.Assignment = p.text(g.val, what+" assignment")
		}
		if g, ok := fs["starts"]; ok {
			r.starts = p.moment(g, what+" starts", loc)
			if before, ok := r.starts.before(prevEnd); ok && before {
				p.errf(g.val, "%s starts before the previous round's deadline (%s)", what, prevEnd)
			}
		}
		dl, hasDL := fs["deadline"]
		du, hasDU := fs["duration"]
		switch {
		case hasDL && hasDU:
			p.errf(du.key, "%s has both deadline and duration; give one", what)
		case !hasDL && !hasDU:
			p.errf(item, "%s needs a deadline (a date) or a duration (like 3d)", what)
		case hasDL:
			r.deadline = p.moment(dl, what+" deadline", loc)
			start := r.starts
			if !start.set() {
				start = prevEnd
			}
			if after, ok := start.before(r.deadline); ok && !after {
				p.errf(dl.val, "%s's deadline (%s) is not after it starts (%s)", what, r.deadline, start)
			}
		default:
			r.Duration = p.duration(du, what+" duration")
			if r.Duration == 0 && du.val.Value != "" {
				if d, err := ParseDuration(du.val.Value); err == nil && d == 0 {
					p.errf(du.val, "%s duration must be longer than 0", what)
				}
			}
		}
		if g, ok := fs["advance"]; ok {
			r.Advance = p.integer(g, what+" advance", 0)
		}
		switch {
		case r.deadline.set():
			prevEnd = r.deadline
		case r.starts.set() && r.Duration > 0:
			prevEnd = r.starts.add(r.Duration)
		case prevEnd.set() && r.Duration > 0:
			prevEnd = prevEnd.add(r.Duration)
		}
		// The end of the schedule only stops new teams; the hard stop stops every team, so a
		// round closing after it would never close for anyone.
		if stop := p.def.Schedule.hardStop; stop.set() {
			if before, ok := stop.before(prevEnd); ok && before {
				p.warnf(item, "%s closes (%s) after the campaign's schedule hard_stop (%s)", what, prevEnd, stop)
			}
		}
		r.Starts, r.Deadline = r.starts.at, r.deadline.at
		p.def.Rounds = append(p.def.Rounds, r)
	}
}

func (p *parser) rubric(f field) {
	fs := p.mapping(f.val, "rubric", "scale", "criteria")
	if fs == nil {
		return
	}
	r := &Rubric{ScaleMin: 1, ScaleMax: 5}
	if g, ok := fs["scale"]; ok {
		ss := p.mapping(g.val, "rubric scale", "min", "max")
		if h, ok := ss["min"]; ok {
			r.ScaleMin = p.integer(h, "scale min", 0)
		}
		if h, ok := ss["max"]; ok {
			r.ScaleMax = p.integer(h, "scale max", 1)
			if r.ScaleMax <= r.ScaleMin {
				p.errf(h.val, "scale max (%d) must be above scale min (%d)", r.ScaleMax, r.ScaleMin)
			}
		}
	}
	g, ok := fs["criteria"]
	if !ok {
		p.errf(f.val, "rubric needs criteria: a list of {name, weight}")
		p.def.Rubric = r
		return
	}
	if g.val.Kind != yaml.SequenceNode || len(g.val.Content) == 0 {
		p.errf(g.val, "criteria must be a list of {name, weight}, with at least one")
		p.def.Rubric = r
		return
	}
	weighted, sum := 0, 0.0
	for i, item := range g.val.Content {
		what := fmt.Sprintf("criterion %d", i+1)
		cs := p.mapping(item, what, "name", "weight")
		if cs == nil {
			continue
		}
		c := Criterion{}
		if h, ok := cs["name"]; ok {
			c.Name = p.str(h, what+" name")
			for _, o := range r.Criteria {
				if o.Name == c.Name && c.Name != "" {
					p.errf(h.val, "criterion %q is listed twice", c.Name)
				}
			}
		} else {
			p.errf(item, "%s needs a name", what)
		}
		if h, ok := cs["weight"]; ok {
			w, ok := p.number(h, what+" weight")
			if ok && w <= 0 {
				p.errf(h.val, "%s weight must be above 0", what)
			}
			c.Weight = w
			weighted++
			sum += w
		}
		r.Criteria = append(r.Criteria, c)
	}
	switch {
	case weighted == 0:
		// No weights: every criterion counts the same.
		for i := range r.Criteria {
			r.Criteria[i].Weight = 1 / float64(len(r.Criteria))
		}
	case weighted < len(r.Criteria):
		p.errf(g.val, "give every criterion a weight, or none (then they count the same)")
	case math.Abs(sum-1) > 1e-6 && math.Abs(sum-100) > 1e-4:
		p.errf(g.val, "criterion weights add up to %g; they must add up to 1 (or 100)", sum)
	}
	p.def.Rubric = r
}

func (p *parser) templates(f field) {
	p.def.Templates = map[string]*Template{}
	p.named(f.val, "templates", func(k, v *yaml.Node) {
		what := fmt.Sprintf("template %q", k.Value)
		t := &Template{Key: k.Value, Language: p.def.Languages[0], Category: CategoryMarketing}
		fs := p.mapping(v, what, "name", "language", "params", "broadcast", "category")
		if g, ok := fs["name"]; ok {
			t.Name = p.str(g, what+" name")
			if t.Name != "" && !templateNameRe.MatchString(t.Name) {
				p.errf(g.val, "%s name %q must be the name registered with WhatsApp: lower-case letters, digits and _", what, t.Name)
			}
		} else if fs != nil {
			p.errf(v, "%s needs a name: the template's name as registered with WhatsApp", what)
		}
		if g, ok := fs["language"]; ok && g.val.Kind == yaml.MappingNode {
			p.templateLanguages(g, t, what)
		} else if ok {
			t.Language = p.str(g, what+" language")
			if t.Language != "" && !templateLangRe.MatchString(t.Language) {
				p.errf(g.val, "%s language %q must be a WhatsApp language code like nl, en or en_US", what, t.Language)
			}
		}
		if g, ok := fs["params"]; ok && !(g.val.Kind == yaml.SequenceNode && len(g.val.Content) == 0) {
			params, nodes := p.strList(g, what+" params")
			for i, v := range params {
				v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "{{"), "}}"))
				if !varNameRe.MatchString(v) {
					p.errf(nodes[i], "%s param %q must be a variable name, like name or code", what, v)
					continue
				}
				t.Params = append(t.Params, v)
				// A template goes out on WhatsApp only, where a participant always has a name.
				p.vars = append(p.vars, varUse{node: nodes[i], name: v, fallback: true})
			}
		}
		if g, ok := fs["broadcast"]; ok {
			t.Broadcast = p.boolean(g, what+" broadcast")
		}
		if g, ok := fs["category"]; ok {
			if c := p.str(g, what+" category"); c != "" && !contains(Categories, c) {
				p.errf(g.val, "%s category %q must be one of %s: the category Meta approved it in", what, c, strings.Join(Categories, ", "))
			} else if c != "" {
				t.Category = c
			}
		}
		p.def.Templates[k.Value] = t
		if p.keyOf == nil {
			p.keyOf = map[string]*yaml.Node{}
		}
		p.keyOf["template "+k.Value] = k
	})
}

// templateLanguages reads a template's language by the campaign's languages, like
// language: {nl: nl, en: en_US}: the template was approved in each of them, and a participant
// gets the one of their language (the first language's when theirs has none).
func (p *parser) templateLanguages(g field, t *Template, what string) {
	langs := p.def.Languages
	t.Languages = map[string]string{}
	for i := 0; i+1 < len(g.val.Content); i += 2 {
		k, v := g.val.Content[i], g.val.Content[i+1]
		if k.Kind != yaml.ScalarNode || !contains(langs, k.Value) {
			if p.badLangs {
				continue
			}
			p.errf(k, "%s language: %q is not a language of languages (%s)", what, k.Value, strings.Join(langs, ", "))
			continue
		}
		code := p.str(field{key: k, val: v}, what+" language "+k.Value)
		if code != "" && !templateLangRe.MatchString(code) {
			p.errf(v, "%s language %q must be a WhatsApp language code like nl, en or en_US", what, code)
			continue
		}
		t.Languages[k.Value] = code
	}
	if code, ok := t.Languages[langs[0]]; ok {
		t.Language = code
	} else if len(g.val.Content) > 0 {
		p.errf(g.val, "%s language has no %s; %s is the first language, the one everyone falls back to", what, langs[0], langs[0])
	} else {
		p.errf(g.val, "%s language is empty", what)
	}
}

// text reads a Text: a plain string in the first language, or a mapping of language to string.
func (p *parser) text(n *yaml.Node, what string) Text {
	langs := p.def.Languages
	switch n.Kind {
	case yaml.ScalarNode:
		s := p.str(field{val: n}, what)
		if s == "" {
			return nil
		}
		p.useText(n, s)
		if len(langs) > 1 {
			others := strings.Join(langs[1:], ", ")
			p.warnf(n, "%s is only in %s; write it as a mapping of language to text with %s too, or participants who speak %s get the %s text", what, langs[0], others, others, langs[0])
		}
		return Text{langs[0]: s}
	case yaml.MappingNode:
		t := Text{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.errf(k, "a key in %s must be a language code", what)
				continue
			}
			if !contains(langs, k.Value) {
				if !p.badLangs {
					p.errf(k, "%s: language %q is not in languages (%s)%s", what, k.Value, strings.Join(langs, ", "), didYouMean(k.Value, langs))
				}
				continue
			}
			if _, dup := t[k.Value]; dup {
				p.errf(k, "%s has two %q texts", what, k.Value)
				continue
			}
			if v.Kind != yaml.ScalarNode {
				p.errf(v, "%s in %q must be a text", what, k.Value)
				continue
			}
			s := p.str(field{val: v}, fmt.Sprintf("%s in %q", what, k.Value))
			if s == "" {
				continue
			}
			p.useText(v, s)
			t[k.Value] = s
		}
		if len(n.Content) == 0 {
			p.errf(n, "%s is empty", what)
			return t
		}
		if _, ok := t[langs[0]]; !ok && !p.badLangs {
			p.errf(n, "%s has no %s text; %s is the first language, the one everyone falls back to", what, langs[0], langs[0])
		}
		for _, l := range langs[1:] {
			if _, ok := t[l]; !ok {
				p.warnf(n, "%s has no %s text; participants who speak %s get the %s text", what, l, l, langs[0])
			}
		}
		return t
	}
	p.errf(n, "%s must be a text, or a mapping of language to text", what)
	return nil
}

// useText notes the variables a text uses, and braces that are not a variable.
func (p *parser) useText(n *yaml.Node, s string) {
	for _, m := range varRe.FindAllStringSubmatchIndex(s, -1) {
		// Point at the variable itself in a one-line text (condPos), not at the text's start.
		at := n
		if n.Value == s {
			at = condPos(n, utf8.RuneCountInString(s[:m[0]]))
		}
		p.vars = append(p.vars, varUse{node: at, name: s[m[2]:m[3]], fallback: m[4] >= 0})
	}
	if rest := varRe.ReplaceAllString(s, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		p.warnf(n, "%q has braces that are not a variable like {{name}}; participants would see them as written", s)
	}
}

// messages reads what a state or transition says: one message or a list of them.
func (p *parser) messages(n *yaml.Node, what string) []Message {
	if n.Kind != yaml.SequenceNode {
		if m, ok := p.message(n, what); ok {
			return []Message{m}
		}
		return nil
	}
	if len(n.Content) == 0 {
		p.errf(n, "%s is an empty list", what)
	}
	var out []Message
	for i, item := range n.Content {
		w := what
		if len(n.Content) > 1 {
			w = fmt.Sprintf("%s (message %d)", what, i+1)
		}
		if m, ok := p.message(item, w); ok {
			out = append(out, m)
		}
	}
	return out
}

func (p *parser) message(n *yaml.Node, what string) (Message, bool) {
	m := Message{node: n}
	if n.Kind != yaml.MappingNode || !hasAnyKey(n, messageKeys) {
		m.Text = p.text(n, what)
		return m, m.Text != nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; contains(p.def.Languages, k.Value) && !contains(messageKeys, k.Value) {
			p.errf(k, "%s mixes a language (%s) with message keys; put the languages under text:", what, k.Value)
			return m, false
		}
	}
	fs := p.mapping(n, what, messageKeys...)
	if g, ok := fs["text"]; ok {
		m.Text = p.text(g.val, what)
	}
	if g, ok := fs["media"]; ok {
		m.Media = p.str(g, what+" media")
	}
	if m.Text == nil && m.Media == "" {
		if _, ok := fs["text"]; !ok {
			p.errf(n, "%s needs text or media", what)
		}
	}
	if g, ok := fs["template"]; ok {
		m.Template = p.name(g, what+" template")
		if m.Template != "" {
			if p.tmplUsed == nil {
				p.tmplUsed = map[string]bool{}
			}
			p.tmplUsed[m.Template] = true
			if p.def.Templates[m.Template] == nil {
				p.errf(g.val, "template %q is not declared under templates:%s", m.Template, didYouMean(m.Template, keys(p.def.Templates)))
				// The template it was meant to name is used: "declared but unused" would echo this.
				if s := suggest(m.Template, keys(p.def.Templates)); s != "" {
					p.tmplUsed[s] = true
				}
			}
		}
	}
	if g, ok := fs["buttons"]; ok {
		m.Buttons = p.buttons(g.val, what)
	}
	return m, true
}

func (p *parser) buttons(n *yaml.Node, what string) []Button {
	p.buttonNodes = append(p.buttonNodes, n)
	before := len(p.probs)
	defer func() {
		if p.probs[before:].HasErrors() {
			p.unsureButtons = true // the buttons offered are not known: checkChoices would guess
		}
	}()
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "buttons must be a list of {id, title}")
		return nil
	}
	if len(n.Content) > maxListRows {
		p.errf(n, "%d buttons; a message can offer at most %d (WhatsApp's limit for a list)", len(n.Content), maxListRows)
	} else if len(n.Content) > maxButtons {
		p.warnf(n, "%d buttons: WhatsApp shows more than %d as a list behind one extra tap", len(n.Content), maxButtons)
	}
	var out []Button
	for i, item := range n.Content {
		bw := fmt.Sprintf("button %d", i+1)
		if item.Kind == yaml.ScalarNode {
			// buttons: [Yes, No] is the first thing one writes; say what a button is.
			id := strings.ToLower(strings.Join(strings.Fields(item.Value), "_"))
			p.errf(item, "%s must be {id, title}, like {id: %s, title: %s}: the id is what a choice transition matches, the title what the participant sees", bw, id, item.Value)
			continue
		}
		fs := p.mapping(item, bw, "id", "title")
		if fs == nil {
			continue
		}
		b := Button{}
		if g, ok := fs["id"]; ok {
			b.ID = p.name(g, bw+" id")
			for _, o := range out {
				if o.ID == b.ID && b.ID != "" {
					p.errf(g.val, "button id %q appears twice in one message", b.ID)
				}
			}
		} else {
			p.errf(item, "%s needs an id: what a choice transition matches", bw)
		}
		if g, ok := fs["title"]; ok {
			b.Title = p.text(g.val, bw+" title")
			for _, l := range p.def.Languages {
				if s, ok := b.Title[l]; ok && utf8.RuneCountInString(s) > maxButtonTitle {
					p.errf(g.val, "button title %q is %d characters; WhatsApp allows at most %d", s, utf8.RuneCountInString(s), maxButtonTitle)
				}
			}
		} else {
			p.errf(item, "%s needs a title: what the participant sees", bw)
		}
		out = append(out, b)
	}
	return out
}

func hasAnyKey(n *yaml.Node, keys []string) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if contains(keys, n.Content[i].Value) {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (p *parser) states(n *yaml.Node) {
	def := p.def
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "states must be a mapping of state names to states, with at least one state")
		return
	}
	type pending struct {
		st  *State
		val *yaml.Node
	}
	var todo []pending
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !idRe.MatchString(k.Value) {
			p.errf(k, "state name %q must be lower-case letters, digits, - and _", k.Value)
			continue
		}
		if def.States[k.Value] != nil {
			p.errf(k, "state %q is defined twice", k.Value)
			continue
		}
		st := &State{Name: k.Value, node: v, keyNode: k}
		def.States[k.Value] = st
		def.Order = append(def.Order, k.Value)
		todo = append(todo, pending{st, v})
	}
	for _, t := range todo {
		p.stateBody(t.val, t.st)
	}
}

func (p *parser) stateBody(n *yaml.Node, st *State) {
	what := fmt.Sprintf("state %q", st.Name)
	fs := p.mapping(n, what, stateKeys...)
	if fs == nil {
		p.unsure = true // the state's transitions are not known: checkGraph would guess
		return
	}
	if f, ok := fs["say"]; ok {
		st.Say = p.messages(f.val, "say of "+what)
		st.node = f.val
	}
	finalBad := false // final: written as neither true nor false (reported)
	if f, ok := fs["final"]; ok {
		before := len(p.probs)
		st.Final = p.boolean(f, "final")
		finalBad = len(p.probs) > before
	}
	if f, ok := fs["finished"]; ok {
		st.Finished = p.text(f.val, "finished of "+what)
	}
	if f, ok := fs["fallback"]; ok {
		st.Fallback = p.text(f.val, "fallback of "+what)
		if st.Final {
			p.warnf(f.key, "fallback: state %q is final; a finished participant hears the finished text, never a fallback", st.Name)
		}
	}
	if f, ok := fs["handoff"]; ok {
		st.Handoff = p.name(f, "handoff team")
		st.handoffNode = f.val
		if st.Final {
			p.errf(f.key, "state %q is final, so it cannot hand off: a hand-off needs a way back (handback)", st.Name)
		}
	}
	f, ok := fs["on"]
	if !ok {
		if !st.Final && !finalBad {
			p.errf(n, "state %q has no transitions (on:) and is not final: a participant would be stuck there", st.Name)
		}
		return
	}
	if st.Final {
		// The transitions are still read, so their own problems come in the same run.
		p.errf(f.key, "state %q is final, so it cannot have transitions", st.Name)
	}
	list := f.val
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.unsure = true
		p.errf(list, "on: must be a list of transitions")
		return
	}
	for i, item := range list.Content {
		t := p.transition(item, st, fmt.Sprintf("%s transition %d", what, i+1))
		t.Name = fmt.Sprintf("%s.%d", st.Name, i+1)
		st.On = append(st.On, t)
	}
	if st.Handoff != "" {
		back := false
		for _, t := range st.On {
			back = back || t.Kind == OnHandback
		}
		if !back {
			p.errf(f.key, "state %q hands off to %q but has no handback transition: the conversation would never come back", st.Name, st.Handoff)
		}
	}
}

func (p *parser) transition(n *yaml.Node, st *State, what string) *Transition {
	t := &Transition{node: n}
	fs := p.mapping(n, what, transitionKeys...)
	if fs == nil {
		return t
	}
	var triggers []string
	for _, k := range triggerKeys {
		if _, ok := fs[k]; ok {
			triggers = append(triggers, k)
		}
	}
	switch len(triggers) {
	case 0:
		// A misspelt trigger (txt:) was reported as an unknown key, with the right name.
		misspelt := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			misspelt = misspelt || !contains(transitionKeys, k) && suggest(k, triggerKeys) != ""
		}
		if !misspelt {
			p.errf(n, "%s needs a trigger: one of %s", what, strings.Join(triggerKeys, ", "))
		}
	case 1:
		t.triggerNode = fs[triggers[0]].key
	default:
		t.triggerNode = fs[triggers[0]].key
		// Read on (the last trigger wins), so the rest of the transition is checked in the
		// same run.
		p.errf(fs[triggers[1]].key, "%s has two triggers (%s and %s); use one transition for each", what, triggers[0], triggers[1])
	}
	if f, ok := fs["text"]; ok {
		t.Kind = OnText
		words, _ := p.strList(f, "text")
		if len(words) == 1 && words[0] == "any" {
			t.AnyText = true
		} else {
			t.Keywords = words
		}
	}
	if f, ok := fs["regex"]; ok {
		t.Kind = OnText
		if src := p.str(f, "regex"); src != "" {
			re, err := regexp.Compile(src)
			if err != nil {
				p.errf(f.val, "regex %q does not compile: %v", src, err)
			}
			t.Pattern = re
		}
	}
	if f, ok := fs["media"]; ok {
		t.Kind = OnMedia
		kinds, nodes := p.strList(f, "media")
		for i, k := range kinds {
			if k == "any" {
				t.Media = nil
				break
			}
			if !contains(MediaKinds, k) {
				p.errf(nodes[i], "unknown media kind %q; use one of %s%s", k, strings.Join(MediaKinds, ", "), didYouMean(k, MediaKinds))
				continue
			}
			t.Media = append(t.Media, k)
		}
	}
	for _, k := range []string{"count", "max_size"} {
		if f, ok := fs[k]; ok && t.Kind != OnMedia && len(triggers) == 1 {
			p.errf(f.key, "%s: only a media transition counts or sizes what is sent", k)
		}
	}
	if f, ok := fs["count"]; ok {
		t.Count = p.integer(f, "count", 1)
	}
	if f, ok := fs["max_size"]; ok {
		t.MaxBytes = p.size(f, "max_size")
	}
	if f, ok := fs["choice"]; ok {
		t.Kind = OnChoice
		ids, nodes := p.strList(f, "choice")
		if !(len(ids) == 1 && ids[0] == "any") {
			for i, id := range ids {
				if !idRe.MatchString(id) {
					p.errf(nodes[i], "choice %q must be a button id: lower-case letters, digits, - and _", id)
					continue
				}
				t.Choices = append(t.Choices, id)
			}
		}
	}
	if f, ok := fs["location"]; ok {
		t.Kind = OnLocation
		p.located = true
		if f.val.Kind == yaml.MappingNode {
			t.Area = p.area(f)
			t.areaWritten = true // a place, even one with a mistake: never "any location"
			p.areas = true
		} else {
			p.yes(f, "location")
		}
	}
	if f, ok := fs["outside"]; ok {
		t.Outside = p.text(f.val, "outside")
		t.outsideKey = f.key
		// A centre written with a mistake was reported already; only a missing one is news.
		if loc, ok := fs["location"]; len(triggers) == 1 && (!ok || loc.val.Kind != yaml.MappingNode) {
			p.errf(f.key, "outside: only a location with a centre and radius has an outside")
		}
	}
	if f, ok := fs["after"]; ok {
		t.Kind = OnTimeout
		t.After = p.duration(f, "after")
		if t.After == 0 && f.val.Kind == yaml.ScalarNode {
			if d, err := ParseDuration(f.val.Value); err == nil && d == 0 {
				p.errf(f.val, "after must be longer than 0")
			}
		}
	}
	if f, ok := fs["verdict"]; ok {
		t.Kind = OnVerdict
		t.Verdict = p.str(f, "verdict")
		if t.Verdict != "" && !contains(Verdicts, t.Verdict) {
			p.errf(f.val, "unknown verdict %q; use one of %s%s", t.Verdict, strings.Join(Verdicts, ", "), didYouMean(t.Verdict, Verdicts))
		}
	}
	if f, ok := fs["round"]; ok {
		t.Kind = OnRound
		p.roundTrigger(f, t)
	}
	if f, ok := fs["handback"]; ok {
		t.Kind = OnHandback
		p.yes(f, "handback")
		if st.Handoff == "" && st.handoffNode == nil { // a bad team name is reported at the name
			p.errf(f.key, "handback: state %q does not hand off (add handoff: TEAM to it)", st.Name)
		}
	}
	if f, ok := fs["optout"]; ok {
		t.Kind = OnOptOut
		p.yes(f, "optout")
	}
	if f, ok := fs["entered"]; ok {
		t.Kind = OnEntered
		p.yes(f, "entered")
		if st.Handoff != "" {
			p.errf(f.key, "entered: state %q hands off, so nothing moves on before the handback; use handback: true", st.Name)
		}
	}
	if f, ok := fs["if"]; ok {
		p.condition(f, t)
	}
	p.actions(fs, t, st, what)
	return t
}

func (p *parser) roundTrigger(f field, t *Transition) {
	events := []string{RoundStarted, RoundDeadline}
	evNode := f.val
	if f.val.Kind == yaml.MappingNode {
		rs := p.mapping(f.val, "round", "name", "event")
		if g, ok := rs["name"]; ok {
			t.Round = p.name(g, "round name")
			if t.Round != "" {
				if p.roundUsed == nil {
					p.roundUsed = map[string]bool{}
				}
				p.roundUsed[t.Round] = true
				var names []string
				for _, r := range p.def.Rounds {
					names = append(names, r.Name)
				}
				if len(p.def.Rounds) > 0 && !contains(names, t.Round) {
					p.errf(g.val, "round %q is not declared under rounds:%s", t.Round, didYouMean(t.Round, names))
				}
			}
		}
		g, ok := rs["event"]
		if !ok {
			if rs != nil {
				p.errf(f.val, "round needs an event: started or deadline")
			}
			return
		}
		evNode = g.val
		t.RoundEvent = p.str(g, "round event")
	} else {
		t.RoundEvent = p.str(f, "round")
	}
	if t.RoundEvent != "" && !contains(events, t.RoundEvent) {
		p.errf(evNode, "unknown round event %q; use started or deadline%s", t.RoundEvent, didYouMean(t.RoundEvent, events))
	}
	if len(p.def.Rounds) == 0 {
		p.errf(f.key, "round: no rounds are declared (add rounds: at the top level)")
	}
}

func (p *parser) actions(fs map[string]field, t *Transition, st *State, what string) {
	if f, ok := fs["save"]; ok {
		t.Save = p.save(f, what)
		if t.Kind != OnText && t.Kind != OnChoice && t.Kind != "" {
			p.errf(f.key, "save: only a text, regex or choice transition has an answer to save")
		}
		if t.Kind == OnChoice && p.saved[t.Save.Var] {
			// A tapped button's id is saved, and its title beside it as VAR_title.
			p.saved[t.Save.Var+"_title"] = true
		}
	}
	if f, ok := fs["collect"]; ok {
		t.Collect = p.boolean(f, "collect")
		if t.Collect && t.Kind != OnMedia {
			p.errf(f.key, "collect: only a media transition has something to collect as an entry")
		}
	}
	if f, ok := fs["set"]; ok {
		p.set(f, t)
	}
	if f, ok := fs["add"]; ok {
		p.add(f, t)
	}
	if f, ok := fs["take"]; ok {
		t.Take = p.name(f, "take")
		if t.Take != "" {
			if p.poolUsed == nil {
				p.poolUsed = map[string]bool{}
			}
			p.poolUsed[t.Take] = true
			if len(p.def.Pools) == 0 {
				p.errf(f.val, "take: pool %q is not declared (add pools: at the top level)", t.Take)
			} else if p.def.Pools[t.Take] == nil {
				p.errf(f.val, "take: pool %q is not declared under pools:%s", t.Take, didYouMean(t.Take, keys(p.def.Pools)))
				if s := suggest(t.Take, keys(p.def.Pools)); s != "" {
					p.poolUsed[s] = true // the pool it was meant to name: not also "declared but unused"
				}
			} else if p.def.Pools[t.Take].HasCodes() {
				p.codePool = true
			}
		}
		if _, ok := fs["full"]; !ok {
			p.errf(f.key, "take needs full: the state to go to when the pool %q has no places left", t.Take)
		}
	}
	if f, ok := fs["full"]; ok {
		t.TakeFull = p.name(f, "full")
		t.fullNode = f.val
		if _, ok := fs["take"]; !ok {
			p.errf(f.key, "full: only means something with take: POOL")
		}
	}
	if f, ok := fs["issue_code"]; ok {
		t.IssueCode = p.boolean(f, "issue_code")
		p.codes = p.codes || t.IssueCode
	}
	if f, ok := fs["notify"]; ok {
		t.Notify = p.text(f.val, "notify")
	}
	if f, ok := fs["say"]; ok {
		t.Say = p.messages(f.val, "say of "+what)
	}
	if f, ok := fs["goto"]; ok {
		t.Goto = p.name(f, "goto")
		t.gotoNode = f.val
	}
	if f, ok := fs["end"]; ok {
		t.End = p.boolean(f, "end")
		if t.End && t.Goto != "" {
			p.errf(f.key, "a transition cannot both goto and end; an end is a goto to nowhere")
		}
	}
}

func (p *parser) save(f field, what string) *Save {
	s := &Save{As: "text"}
	if f.val.Kind == yaml.ScalarNode && varNameRe.MatchString(f.val.Value) {
		// save: answer is the shorthand a reader guesses first; show them the form.
		p.errf(f.val, "save must be a mapping like save: {var: %s}, not a single value", f.val.Value)
		return s
	}
	fs := p.mapping(f.val, "save", "var", "as", "min", "max", "invalid")
	if fs == nil {
		return s
	}
	if g, ok := fs["var"]; ok {
		s.Var = p.str(g, "save var")
		switch {
		case s.Var == "":
		case !varNameRe.MatchString(s.Var):
			p.errf(g.val, "save var %q must be lower-case letters, digits and _ (it is used as {{%s}})", s.Var, s.Var)
		case contains(engineVars, s.Var):
			p.errf(g.val, "save var %q is set by the engine; choose another name", s.Var)
		default:
			if p.saved == nil {
				p.saved = map[string]bool{}
			}
			p.saved[s.Var] = true
		}
	} else {
		p.errf(f.val, "save needs var: the name to store the answer under")
	}
	if g, ok := fs["as"]; ok {
		s.As = p.str(g, "save as")
		if s.As != "" && !contains(saveKinds, s.As) {
			p.errf(g.val, "save as %q: use one of %s%s", s.As, strings.Join(saveKinds, ", "), didYouMean(s.As, saveKinds))
		}
	}
	for _, k := range []string{"min", "max"} {
		g, ok := fs[k]
		if !ok {
			continue
		}
		if s.As != "number" && s.As != "age" && (s.As == "" || contains(saveKinds, s.As)) {
			// (an as: that is no kind is reported above; bounds may be what it meant)
			p.errf(g.key, "save %s: only a number or an age has bounds", k)
		}
		if x, ok := p.number(g, "save "+k); ok {
			if k == "min" {
				s.Min = &x
			} else {
				s.Max = &x
				if s.Min != nil && *s.Min > x {
					p.errf(g.val, "save max (%g) is below save min (%g)", x, *s.Min)
				}
			}
		}
	}
	if g, ok := fs["invalid"]; ok {
		s.Invalid = p.text(g.val, "save invalid")
	} else if s.As != "text" && contains(saveKinds, s.As) {
		p.errf(f.val, "save as %s needs invalid: what to say when the answer is not a valid %s", s.As, s.As)
	}
	return s
}
