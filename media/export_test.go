package media

// Check exposes the sniff-and-validate step to the black-box tests and the fuzz target: it
// returns the MIME type and size of an acceptable photo and, when thumb is set, also decodes it
// into a thumbnail the way Put does.
func Check(data []byte, thumb bool) (mime string, width, height int, err error) {
	p, err := check(data)
	if err != nil {
		return "", 0, 0, err
	}
	if thumb {
		if _, err := thumbnail(data, p, 1); err != nil {
			return "", 0, 0, err
		}
	}
	return p.mime, p.width, p.height, nil
}

// Fit exposes the thumbnail size arithmetic.
func Fit(w, h, side int) (int, int) { return fit(w, h, side) }

// SniffAs exposes the type check PutMedia makes of a video or audio recording.
func SniffAs(kind string, data []byte) (string, error) {
	f, err := sniffKind(kind, "", data)
	return f.mime, err
}

// HoldDecodeMemory takes n bytes of s's shared decode budget until the returned func is called.
func HoldDecodeMemory(s *Store, n int64) func() {
	if !s.decode.sem.TryAcquire(n) {
		panic("decode budget already taken")
	}
	return func() { s.decode.sem.Release(n) }
}
