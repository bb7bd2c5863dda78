package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/chatcampaigns/campaign/errs"
)

// Metadata stripping. Participants send photos from their homes, and a phone writes where
// and when a picture was taken, on which device, into the file. Nothing of that is kept: the
// bytes stored (and shown to judges, exported, or served back) carry pixels and what is
// needed to show them right, nothing else.
//
// The pixels are never re-encoded: the container is rewritten, segment by segment or chunk
// by chunk, so a photo loses no quality and its compressed data stays bit-identical. What is
// kept is an allow-list, so a metadata block this code has never heard of goes too:
//
//   - JPEG: JFIF (APP0), ICC colour profiles (APP2 "ICC_PROFILE"), Adobe's colour-transform
//     flag (APP14) and the frame itself. EXIF (GPS, maker notes, the embedded preview), XMP,
//     IPTC/Photoshop (APP13), comments, multi-picture previews and any bytes after the end of
//     the image are dropped. The one EXIF field that changes how a photo looks, Orientation,
//     is kept by writing a new EXIF block that holds that field alone.
//   - PNG: the chunks that make up the picture (IHDR, PLTE, IDAT, IEND, transparency, colour
//     space, gamma, physical size and APNG animation). Text chunks (tEXt, zTXt, iTXt, which
//     carry XMP), eXIf and the time stamp are dropped.
//   - WebP: the image and animation chunks and the ICC profile; EXIF and XMP chunks are
//     dropped and the header flags that announced them cleared.
//   - GIF: images, their control extensions and the looping extension; comments and other
//     application extensions (XMP) are dropped.
//
// Any structure that does not parse is refused rather than stored as it came.

// errDamaged wraps the ways a container fails to parse while being stripped.
var errDamaged = errors.New("damaged")

// stripPhoto returns data, a checked photo of the given extension, without its metadata, and
// the EXIF orientation it keeps (1, upright, for everything but a rotated JPEG).
func stripPhoto(ext string, data []byte) (out []byte, orientation int, err error) {
	orientation = 1
	switch ext {
	case "jpg":
		out, orientation, err = stripJPEG(data)
	case "png":
		out, err = stripPNG(data)
	case "webp":
		out, err = stripWebP(data)
	case "gif":
		out, err = stripGIF(data)
	default:
		return nil, 0, fmt.Errorf("media: no metadata stripper for %s photos: %w", ext, errs.ErrInvalid)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("media: the %s photo is damaged (%v): %w", ext, err, errs.ErrInvalid)
	}
	return out, orientation, nil
}

// JPEG markers.
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mAPP0 = 0xE0
	mAPP1 = 0xE1
	mAPP2 = 0xE2
	mAPPE = 0xEE
	mAPPF = 0xEF
	mCOM  = 0xFE
)

// stripJPEG rewrites a JPEG's marker segments, keeping the allow-list above, and ends the
// file at its EOI marker.
func stripJPEG(data []byte) ([]byte, int, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != mSOI {
		return nil, 0, fmt.Errorf("%w: no JPEG start marker", errDamaged)
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, mSOI)
	orientation := 1
	wroteExif := false
	i := 2
	for {
		// Markers may be padded with any number of 0xFF bytes.
		if i >= len(data) || data[i] != 0xFF {
			return nil, 0, fmt.Errorf("%w: expected a JPEG marker at byte %d", errDamaged, i)
		}
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i >= len(data) {
			return nil, 0, fmt.Errorf("%w: JPEG ends inside a marker", errDamaged)
		}
		m := data[i]
		i++
		switch {
		case m == mEOI:
			out = append(out, 0xFF, mEOI)
			// Whatever follows EOI (phone makers append depth maps, second pictures and
			// their own metadata there) is not part of the photo.
			if !wroteExif {
				orientation = 1 // no frame came, so no EXIF block was written to keep it
			}
			return out, orientation, nil
		case m >= 0xD0 && m <= 0xD7, m == 0x01:
			// Restart markers and TEM carry no length.
			out = append(out, 0xFF, m)
			continue
		}
		if i+2 > len(data) {
			return nil, 0, fmt.Errorf("%w: JPEG segment length cut off", errDamaged)
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			return nil, 0, fmt.Errorf("%w: JPEG segment runs past the end", errDamaged)
		}
		seg := data[i+2 : i+n]
		keep := true
		switch {
		case m == mAPP1:
			keep = false
			if o, ok := exifOrientation(seg); ok {
				orientation = o
			}
		case m == mAPP0:
			keep = bytes.HasPrefix(seg, []byte("JFIF\x00")) || bytes.HasPrefix(seg, []byte("JFXX\x00"))
		case m == mAPP2:
			keep = bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00"))
		case m == mAPPE:
			keep = bytes.HasPrefix(seg, []byte("Adobe"))
		case m >= mAPP0 && m <= mAPPF, m == mCOM:
			keep = false
		}
		// The new EXIF block goes just before the first segment that is not an APPn, which is
		// where readers look for it (after JFIF, as the EXIF standard allows).
		if !wroteExif && (m < mAPP0 || m > mAPPF) && m != mCOM {
			wroteExif = true
			if orientation > 1 {
				out = append(out, orientationSegment(orientation)...)
			}
		}
		if keep {
			out = append(out, 0xFF, m)
			out = append(out, data[i:i+n]...)
		}
		i += n
		if m == mSOS {
			// Entropy-coded data follows, up to the next marker that is not a stuffed 0xFF00
			// or a restart marker.
			j := i
			for {
				if j+1 >= len(data) {
					return nil, 0, fmt.Errorf("%w: JPEG ends inside the image data", errDamaged)
				}
				if data[j] == 0xFF && data[j+1] != 0 && !(data[j+1] >= 0xD0 && data[j+1] <= 0xD7) && data[j+1] != 0xFF {
					break
				}
				j++
			}
			out = append(out, data[i:j]...)
			i = j
		}
	}
}

// orientationSegment is an APP1 EXIF segment holding only the Orientation tag.
func orientationSegment(o int) []byte {
	tiff := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at offset 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0, // no next IFD
	}
	body := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, mAPP1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	return append(seg, body...)
}

// exifOrientation reads the Orientation tag (1 to 8) from an APP1 EXIF segment's payload.
func exifOrientation(seg []byte) (int, bool) {
	if !bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
		return 0, false
	}
	t := seg[6:]
	if len(t) < 8 {
		return 0, false
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, false
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0, false
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 0, false
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			o := int(bo.Uint16(t[e+8:]))
			return o, o >= 1 && o <= 8
		}
	}
	return 0, false
}

// pngKeep lists the PNG chunks a stripped PNG keeps.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true,
	"bKGD": true, "pHYs": true, "cICP": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

var pngSig = []byte("\x89PNG\r\n\x1a\n")

// stripPNG copies the allowed chunks, CRCs and all, and stops at IEND.
func stripPNG(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, pngSig) {
		return nil, fmt.Errorf("%w: no PNG signature", errDamaged)
	}
	out := append(make([]byte, 0, len(data)), pngSig...)
	for i := len(pngSig); ; {
		if i+8 > len(data) {
			return nil, fmt.Errorf("%w: PNG ends before IEND", errDamaged)
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > 1<<31-1 || uint64(i)+12+uint64(n) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: PNG chunk runs past the end", errDamaged)
		}
		end := i + 12 + int(n)
		typ := string(data[i+4 : i+8])
		if pngKeep[typ] {
			out = append(out, data[i:end]...)
		}
		if typ == "IEND" {
			return out, nil
		}
		i = end
	}
}

// stripWebP rewrites a WebP's RIFF chunks without EXIF and XMP.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, fmt.Errorf("%w: no WebP header", errDamaged)
	}
	size := int(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 || uint64(size)+8 > uint64(len(data)) {
		return nil, fmt.Errorf("%w: WebP size runs past the end", errDamaged)
	}
	body := data[12 : 8+size]
	out := append(make([]byte, 0, len(data)), data[:12]...)
	vp8x := -1
	for i := 0; i < len(body); {
		if i+8 > len(body) {
			return nil, fmt.Errorf("%w: WebP chunk header cut off", errDamaged)
		}
		typ := string(body[i : i+4])
		n := int(binary.LittleEndian.Uint32(body[i+4:]))
		padded := n + n&1
		if n < 0 || uint64(i)+8+uint64(padded) > uint64(len(body)) {
			// The final pad byte is sometimes missing; accept exactly that.
			if uint64(i)+8+uint64(n) != uint64(len(body)) {
				return nil, fmt.Errorf("%w: WebP chunk runs past the end", errDamaged)
			}
			padded = n
		}
		switch typ {
		case "EXIF", "XMP ":
		default:
			if typ == "VP8X" {
				vp8x = len(out)
			}
			out = append(out, body[i:i+8+padded]...)
			if padded != n+n&1 {
				out = append(out, 0)
			}
		}
		i += 8 + padded
	}
	if vp8x >= 0 && vp8x+8 < len(out) {
		// Clear the EXIF (0x08) and XMP (0x04) flags: the chunks are gone.
		out[vp8x+8] &^= 0x08 | 0x04
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}

// stripGIF walks a GIF's blocks and drops comment extensions and every application extension
// but NETSCAPE2.0/ANIMEXTS1.0 (looping).
func stripGIF(data []byte) ([]byte, error) {
	if len(data) < 13 || (string(data[:6]) != "GIF87a" && string(data[:6]) != "GIF89a") {
		return nil, fmt.Errorf("%w: no GIF header", errDamaged)
	}
	i := 13
	if data[10]&0x80 != 0 {
		i += 3 << (data[10]&7 + 1)
	}
	if i > len(data) {
		return nil, fmt.Errorf("%w: GIF colour table cut off", errDamaged)
	}
	out := append(make([]byte, 0, len(data)), data[:i]...)
	// subBlocks returns the end of the data sub-blocks starting at j.
	subBlocks := func(j int) (int, error) {
		for {
			if j >= len(data) {
				return 0, fmt.Errorf("%w: GIF data cut off", errDamaged)
			}
			n := int(data[j])
			j++
			if n == 0 {
				return j, nil
			}
			j += n
		}
	}
	for {
		if i >= len(data) {
			return nil, fmt.Errorf("%w: GIF ends before its trailer", errDamaged)
		}
		switch data[i] {
		case 0x3B:
			return append(out, 0x3B), nil
		case 0x21:
			if i+2 > len(data) {
				return nil, fmt.Errorf("%w: GIF extension cut off", errDamaged)
			}
			label := data[i+1]
			end, err := subBlocks(i + 2)
			if err != nil {
				return nil, err
			}
			keep := label == 0xF9 || label == 0x01
			if label == 0xFF && i+3+11 <= len(data) && data[i+2] == 11 {
				id := string(data[i+3 : i+3+11])
				keep = id == "NETSCAPE2.0" || id == "ANIMEXTS1.0"
			}
			if keep {
				out = append(out, data[i:end]...)
			}
			i = end
		case 0x2C:
			j := i + 10
			if j > len(data) {
				return nil, fmt.Errorf("%w: GIF image descriptor cut off", errDamaged)
			}
			if data[i+9]&0x80 != 0 {
				j += 3 << (data[i+9]&7 + 1)
			}
			j++ // LZW minimum code size
			end, err := subBlocks(j)
			if err != nil {
				return nil, err
			}
			out = append(out, data[i:end]...)
			i = end
		default:
			return nil, fmt.Errorf("%w: unknown GIF block 0x%02x", errDamaged, data[i])
		}
	}
}

// stripISO blanks the metadata boxes of an ISO base media file (MP4, MOV, 3GP, M4A): every
// "udta" and "meta" box at the top level, in "moov" and in each "trak" (QuickTime's ©xyz
// location, Apple's and Android's com.apple.quicktime.location.ISO6709 keys, the recording
// device) and top-level "uuid" boxes (XMP). Each such box becomes a "free" box of the same
// size filled with zeros: every offset in the file (the sample tables point into "mdat")
// stays right, and no byte of the audio or video changes. It works on a copy.
func stripISO(data []byte) ([]byte, error) {
	out := append([]byte(nil), data...)
	if err := blankBoxes(out, 0, len(out), 0); err != nil {
		return nil, fmt.Errorf("media: the file is damaged (%v): %w", err, errs.ErrInvalid)
	}
	return out, nil
}

// blankBoxes walks the boxes in b[from:to]; depth 0 is the file, 1 inside moov, 2 inside trak.
func blankBoxes(b []byte, from, to, depth int) error {
	for i := from; i < to; {
		if i+8 > to {
			if depth == 0 && to-i < 8 {
				// Some writers leave a few bytes of padding at the very end.
				return nil
			}
			return fmt.Errorf("%w: box header cut off", errDamaged)
		}
		size := uint64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(to - i)
		case 1:
			if i+16 > to {
				return fmt.Errorf("%w: large box header cut off", errDamaged)
			}
			size = binary.BigEndian.Uint64(b[i+8:])
			hdr = 16
		}
		if size < hdr || size > uint64(to-i) {
			return fmt.Errorf("%w: %q box runs past its parent", errDamaged, typ)
		}
		end := i + int(size)
		switch {
		case typ == "udta" || typ == "meta" || (typ == "uuid" && depth == 0):
			copy(b[i+4:i+8], "free")
			clear(b[i+int(hdr) : end])
		case typ == "moov" && depth == 0, typ == "trak" && depth == 1:
			if err := blankBoxes(b, i+int(hdr), end, depth+1); err != nil {
				return err
			}
		}
		i = end
	}
	return nil
}

// stripID3 removes an MP3's ID3v2 tag at the start and ID3v1 tag at the end; the frames
// between them are the sound.
func stripID3(data []byte) []byte {
	out := data
	if len(out) >= 10 && string(out[:3]) == "ID3" {
		n := int(out[6]&0x7F)<<21 | int(out[7]&0x7F)<<14 | int(out[8]&0x7F)<<7 | int(out[9]&0x7F)
		n += 10
		if out[5]&0x10 != 0 {
			n += 10 // footer
		}
		if n < len(out) {
			out = out[n:]
		}
	}
	if len(out) >= 128 && string(out[len(out)-128:len(out)-125]) == "TAG" {
		out = out[:len(out)-128]
	}
	return out
}
