// The web chat page. Participant and persona text is only ever set with textContent: nothing
// a participant typed is parsed as HTML.
(function () {
  'use strict';
  var body = document.body;
  var base = body.dataset.base;
  var list = document.getElementById('messages');
  var form = document.getElementById('composer');
  var text = document.getElementById('text');
  var photo = document.getElementById('photo');
  var record = document.getElementById('record');
  var typing = document.getElementById('typing');
  var seen = {};
  var typingTimer = null;

  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  function scroll() { list.scrollTop = list.scrollHeight; }

  function clock(at) {
    var d = at ? new Date(at) : new Date();
    if (isNaN(d)) return null;
    var t = document.createElement('time');
    t.dateTime = d.toISOString();
    t.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return t;
  }

  // add shows a message once per id, whether it came from history, the live stream or this page.
  function add(m) {
    if (m.id && seen[m.id]) return seen[m.id];
    var li = document.createElement('li');
    li.className = 'msg ' + (m.dir === 'out' ? 'out' : 'in');
    if (m.id) { li.dataset.id = m.id; seen[m.id] = li; }
    if (m.media) {
      var kind = mediaKind(m.media), el;
      if (kind === 'photo') {
        el = document.createElement('img');
        el.alt = m.dir === 'in' ? 'Your photo' : 'Photo';
        el.addEventListener('load', scroll);
      } else {
        el = document.createElement(kind);
        el.controls = true;
        el.preload = 'metadata';
        el.setAttribute('aria-label', (m.dir === 'in' ? 'Your ' : '') + kindName[kind]);
        el.addEventListener('loadedmetadata', scroll);
      }
      el.src = m.media;
      li.appendChild(el);
    }
    if (m.text) {
      var p = document.createElement('p');
      p.textContent = m.text;
      li.appendChild(p);
    }
    if (m.buttons && m.buttons.length) li.appendChild(choices(m.buttons));
    var t = clock(m.at);
    if (t) li.appendChild(t);
    list.appendChild(li);
    scroll();
    return li;
  }

  // mediaKind tells from a stored object's address what to show it in: the server names each
  // object with the extension of what its bytes are (.weba for a WebM voice note).
  var videoExt = /\.(mp4|webm|mov|3gp|mkv)$/i, audioExt = /\.(weba|ogg|opus|mp3|m4a|aac|amr|wav|mka)$/i;
  function mediaKind(url) {
    var path = url.split('?')[0];
    if (videoExt.test(path)) return 'video';
    if (audioExt.test(path)) return 'audio';
    return 'photo';
  }
  var kindName = { photo: 'photo', video: 'video', audio: 'voice note' };
  // fileKind is the kind the browser gives a picked file, for the words shown while it is sent
  // (the server decides from the bytes).
  function fileKind(file) {
    var t = file.type || '';
    if (t.indexOf('video/') === 0) return 'video';
    if (t.indexOf('audio/') === 0) return 'audio';
    return 'photo';
  }

  // choices shows the buttons a reply offers: up to three side by side, four or more as a
  // list, as WhatsApp does. Earlier buttons stay; a tap on one is still sent and the campaign
  // decides what it means.
  function choices(buttons) {
    var many = buttons.length > 3;
    var box = document.createElement(many ? 'ul' : 'div');
    box.className = many ? 'choices list' : 'choices';
    buttons.forEach(function (b) {
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'choice';
      btn.dataset.choice = b.id;
      btn.textContent = b.title;
      btn.addEventListener('click', function () { choose(b); });
      if (many) {
        var row = document.createElement('li');
        row.appendChild(btn);
        box.appendChild(row);
      } else {
        box.appendChild(btn);
      }
    });
    return box;
  }

  // choose sends a tap as the participant's message: its title is shown as what they said.
  function choose(b) {
    var id = uid();
    var li = add({ id: 'c' + id, dir: 'in', text: b.title });
    showTyping();
    post('/choices', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: id, choice: b.id, title: b.title })
    }).catch(function (err) { failed(li, err); });
  }

  function note(msg) {
    var li = document.createElement('li');
    li.className = 'msg system';
    li.setAttribute('role', 'status');
    li.textContent = msg;
    list.appendChild(li);
    scroll();
  }

  // showTyping is the guess made on sending: a reply usually follows. It lasts only until the
  // server would have said so (event "typing", onTyping), so a message nobody answers (after
  // opting out, during a hand-off to a human) does not leave "typing…" standing.
  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 3000);
    scroll();
  }
  function hideTyping() {
    typing.hidden = true;
    clearTimeout(typingTimer);
  }

  var fallback = {
    400: 'That message could not be sent.',
    413: 'That file is too big.',
    415: "That doesn't look like a photo, video or voice note.",
    429: 'Slow down a little and try again.'
  };

  // post sends once and retries once on a network failure with the same body: the client id
  // in it makes the retry harmless if the first attempt did arrive.
  function post(path, init, retried) {
    init.method = 'POST';
    init.credentials = 'same-origin';
    return fetch(base + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(data.error || fallback[res.status] || 'Something went wrong. Please try again.');
        return data;
      });
    }, function (err) {
      if (retried) throw new Error('No connection. Check your network and try again.');
      return new Promise(function (r) { setTimeout(r, 1500); }).then(function () { return post(path, init, true); });
    });
  }

  function failed(li, err) {
    if (li) li.classList.add('failed');
    hideTyping();
    note(err.message);
  }

  // photoFailed turns the "Sending photo…" bubble into the failure itself, with the reason,
  // rather than leaving it grey with the reason somewhere below.
  function photoFailed(li, caption, err, kind) {
    hideTyping();
    li.classList.add('failed');
    li.textContent = '';
    if (caption) {
      var p = document.createElement('p');
      p.textContent = caption;
      li.appendChild(p);
    }
    var why = document.createElement('p');
    why.className = 'failure';
    why.setAttribute('role', 'alert');
    var what = kindName[kind || 'photo'];
    why.textContent = what.charAt(0).toUpperCase() + what.slice(1) + ' not sent: ' + err.message;
    li.appendChild(why);
    scroll();
  }

  // onTyping: the server queued a reply (event "typing", at = when it is due). "typing…" shows
  // until a reply arrives, or a while after it was due if it never does.
  function onTyping(e) {
    var m;
    try { m = JSON.parse(e.data); } catch (_) { return; }
    var wait = Date.parse(m.at) - Date.now();
    wait = isNaN(wait) ? 20000 : Math.min(Math.max(wait, 0) + 10000, 300000);
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, wait);
    scroll();
  }

  // A read-only page (the campaign closed after this visitor played) has no composer.
  if (form) form.addEventListener('submit', function (e) {
    e.preventDefault();
    var msg = text.value;
    if (!msg.trim()) { note('Type a message first.'); return; }
    var id = uid();
    var li = add({ id: 'c' + id, dir: 'in', text: msg });
    text.value = '';
    text.focus();
    // Shown before the request: a quick reply can arrive on the stream before the answer to
    // the request does, and must then hide the indicator, not be followed by it.
    showTyping();
    post('/messages', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: id, text: msg })
    }).catch(function (err) { failed(li, err); });
  });

  // sendMedia uploads a photo, video or voice note; kind is what the page recorded (audio),
  // or empty for a picked file, which the server takes for what its bytes are.
  function sendMedia(file, filename, kind) {
    var id = uid();
    var caption = text.value.trim();
    text.value = '';
    var fd = new FormData();
    fd.append('id', id);
    if (caption) fd.append('caption', caption);
    if (kind) fd.append('kind', kind);
    fd.append('media', file, filename);
    var shownKind = kind || fileKind(file);
    var li = add({ id: 'c' + id, dir: 'in', text: caption || 'Sending ' + kindName[shownKind] + '…' });
    showTyping();
    post('/media', { body: fd }).then(function (data) {
      // The reply may already be on the page; the media keeps its place before it.
      var next = li.nextSibling;
      li.remove();
      delete seen['c' + id];
      var shown = add({ id: 'c' + id, dir: 'in', text: caption, media: data.media });
      if (next && next.parentNode === list) list.insertBefore(shown, next);
    }, function (err) { photoFailed(li, caption, err, shownKind); });
  }

  if (photo) photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    photo.value = '';
    if (!file) return;
    sendMedia(file, file.name || 'upload', '');
  });

  // A voice note: the record button starts the microphone and stops it on the second press;
  // the recording (WebM or Ogg with Opus, whatever this browser records) is sent as audio.
  var recorder = null;
  function recordType() {
    var types = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg', 'audio/mp4'];
    for (var i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    return '';
  }
  function setRecording(on) {
    record.classList.toggle('recording', on);
    record.setAttribute('aria-pressed', on ? 'true' : 'false');
    record.title = on ? 'Stop and send the voice note' : 'Record a voice note';
    document.getElementById('record-label').textContent = record.title;
  }
  if (record && window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    record.hidden = false;
    record.addEventListener('click', function () {
      if (recorder) { recorder.stop(); return; }
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var type = recordType();
        var chunks = [];
        var r = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
        r.addEventListener('dataavailable', function (e) { if (e.data && e.data.size) chunks.push(e.data); });
        r.addEventListener('stop', function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          recorder = null;
          setRecording(false);
          var mime = (r.mimeType || type || 'audio/webm').split(';')[0];
          var blob = new Blob(chunks, { type: r.mimeType || mime });
          if (!blob.size) { note('Nothing was recorded. Try again.'); return; }
          var ext = { 'audio/ogg': 'ogg', 'audio/mp4': 'm4a' }[mime] || 'webm';
          sendMedia(blob, 'voice-note.' + ext, 'audio');
        });
        recorder = r;
        r.start();
        setRecording(true);
      }, function () {
        note('The microphone is not available. Allow it for this page, or send a recording as a file.');
      });
    });
  }
  // The location button shares where the browser is, as a location pin does on WhatsApp; the
  // browser asks the participant first. Where they are now (maximumAge 0): someone told to walk
  // on who taps again a few steps on must not share the position the browser kept from before.
  var locate = document.getElementById('share-location');
  if (locate) locate.addEventListener('click', function () {
    if (!navigator.geolocation) { note('This browser cannot share a location.'); return; }
    locate.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      locate.disabled = false;
      var id = uid();
      var lat = pos.coords.latitude, lng = pos.coords.longitude;
      var li = add({ id: 'c' + id, dir: 'in', text: '📍 ' + lat.toFixed(5) + ', ' + lng.toFixed(5) });
      showTyping();
      post('/location', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: id, lat: lat, lng: lng })
      }).catch(function (err) { failed(li, err); });
    }, function (err) {
      locate.disabled = false;
      note(err.code === 1 ? 'The location was not shared: allow this page to use your location, then tap the pin again.' : 'Your location could not be found. Try again in a moment.');
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });

  // teamPlaying hides the "waiting for members" note once the team's conversation began
  // (the team's last member joined on another browser).
  function teamPlaying() {
    var wait = document.getElementById('team-wait');
    if (wait) wait.hidden = true;
  }

  // A (re)connected stream starts with a reset and the whole transcript, so a page that
  // missed replies while offline catches up without showing anything twice.
  var stream = new EventSource(base + '/events');
  stream.addEventListener('reset', function () {
    seen = {};
    list.textContent = '';
  });
  stream.addEventListener('ready', function () { body.dataset.ready = 'true'; });
  stream.addEventListener('message', teamPlaying);
  // team: a member joined on another browser; the count of members is now m.text.
  stream.addEventListener('team', function (e) {
    var m, el = document.getElementById('team-members');
    try { m = JSON.parse(e.data); } catch (_) { return; }
    if (el && m.text) el.textContent = m.text;
  });
  stream.addEventListener('typing', onTyping);
  stream.onmessage = function (e) {
    var m;
    try { m = JSON.parse(e.data); } catch (_) { return; }
    add(m);
    if (m.dir === 'out') hideTyping();
  };

  // The browser's language: a campaign in several languages speaks the one it matches
  // (nl-BE: nl) until the participant picks one.
  if (!body.dataset.readonly) post('/join', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ locale: navigator.language || '' }) }).catch(function (err) { note(err.message); });
})();
