package xmldsig

import (
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// appendEscaped appends s escaped as C14N requires for text (& < > CR) or for
// an attribute value (& < " TAB LF CR). Characters XML cannot carry (control
// characters, U+FFFE, U+FFFF, invalid UTF-8) become U+FFFD, as etree's
// serialiser writes them.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		b := s[i]
		width := 1
		var esc string
		if b < utf8.RuneSelf {
			switch {
			case b >= 0x20 && b != '&' && b != '<' && b != '>' && b != '"':
				i++
				continue
			case b == '&':
				esc = "&amp;"
			case b == '<':
				esc = "&lt;"
			case b == '>':
				if attr {
					i++
					continue
				}
				esc = "&gt;"
			case b == '"':
				if !attr {
					i++
					continue
				}
				esc = "&quot;"
			case b == '\r':
				esc = "&#xD;"
			case b == '\t' || b == '\n':
				if !attr {
					i++
					continue
				}
				if b == '\t' {
					esc = "&#x9;"
				} else {
					esc = "&#xA;"
				}
			default:
				esc = "\uFFFD"
			}
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if (r != utf8.RuneError || w > 1) && xmlRune(r) {
				i += w
				continue
			}
			esc = "\uFFFD"
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}

// xmlRune reports whether a non-ASCII rune is an XML 1.0 Char.
func xmlRune(r rune) bool {
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= utf8.MaxRune)
}

// appendProcInst renders a processing instruction as C14N does, breaking any
// "?>" inside it as etree's serialiser does.
func appendProcInst(dst []byte, p *etree.ProcInst) []byte {
	dst = append(dst, "<?"...)
	dst = appendPIText(dst, p.Target)
	if p.Inst != "" {
		dst = append(dst, ' ')
		dst = appendPIText(dst, p.Inst)
	}
	return append(dst, "?>"...)
}

func appendPIText(dst []byte, s string) []byte {
	for {
		i := strings.Index(s, "?>")
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, ' ')
		s = s[i+1:]
	}
}
