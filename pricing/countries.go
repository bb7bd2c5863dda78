package pricing

import "strings"

// callingCodes maps an international calling code (or a longer prefix of one, where a code
// is shared) to the ISO 3166 alpha-2 code of the country numbers under it belong to.
//
// Shared codes: +1 (the North American Numbering Plan) is split by area code: Canada's area
// codes and each Caribbean and Pacific member's are listed, every other +1 number counts as
// the United States. +7 is Kazakhstan for +76 and +77, Russia otherwise. Where one code
// covers several territories that Meta prices as one (+44 with Jersey, Guernsey and the Isle
// of Man; +262 with Mayotte; +590 with Saint Barthélemy and Saint Martin; +47 with Svalbard;
// +61 with Christmas Island), the numbers count as the main country.
var callingCodes = map[string]string{
	"1": "US", "7": "RU", "76": "KZ", "77": "KZ",

	"20": "EG", "211": "SS", "212": "MA", "213": "DZ", "216": "TN", "218": "LY", "220": "GM",
	"221": "SN", "222": "MR", "223": "ML", "224": "GN", "225": "CI", "226": "BF", "227": "NE",
	"228": "TG", "229": "BJ", "230": "MU", "231": "LR", "232": "SL", "233": "GH", "234": "NG",
	"235": "TD", "236": "CF", "237": "CM", "238": "CV", "239": "ST", "240": "GQ", "241": "GA",
	"242": "CG", "243": "CD", "244": "AO", "245": "GW", "246": "IO", "248": "SC", "249": "SD",
	"250": "RW", "251": "ET", "252": "SO", "253": "DJ", "254": "KE", "255": "TZ", "256": "UG",
	"257": "BI", "258": "MZ", "260": "ZM", "261": "MG", "262": "RE", "263": "ZW", "264": "NA",
	"265": "MW", "266": "LS", "267": "BW", "268": "SZ", "269": "KM", "27": "ZA", "290": "SH",
	"291": "ER", "297": "AW", "298": "FO", "299": "GL",

	"30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "350": "GI", "351": "PT",
	"352": "LU", "353": "IE", "354": "IS", "355": "AL", "356": "MT", "357": "CY", "358": "FI",
	"359": "BG", "36": "HU", "370": "LT", "371": "LV", "372": "EE", "373": "MD", "374": "AM",
	"375": "BY", "376": "AD", "377": "MC", "378": "SM", "380": "UA", "381": "RS", "382": "ME",
	"383": "XK", "385": "HR", "386": "SI", "387": "BA", "389": "MK", "39": "IT", "40": "RO",
	"41": "CH", "420": "CZ", "421": "SK", "423": "LI", "43": "AT", "44": "GB", "45": "DK",
	"46": "SE", "47": "NO", "48": "PL", "49": "DE",

	"500": "FK", "501": "BZ", "502": "GT", "503": "SV", "504": "HN", "505": "NI", "506": "CR",
	"507": "PA", "508": "PM", "509": "HT", "51": "PE", "52": "MX", "53": "CU", "54": "AR",
	"55": "BR", "56": "CL", "57": "CO", "58": "VE", "590": "GP", "591": "BO", "592": "GY",
	"593": "EC", "594": "GF", "595": "PY", "596": "MQ", "597": "SR", "598": "UY", "599": "CW",
	"5997": "BQ",

	"60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH",
	"670": "TL", "672": "NF", "673": "BN", "674": "NR", "675": "PG", "676": "TO", "677": "SB",
	"678": "VU", "679": "FJ", "680": "PW", "681": "WF", "682": "CK", "683": "NU", "685": "WS",
	"686": "KI", "687": "NC", "688": "TV", "689": "PF", "690": "TK", "691": "FM", "692": "MH",

	"81": "JP", "82": "KR", "84": "VN", "850": "KP", "852": "HK", "853": "MO", "855": "KH",
	"856": "LA", "86": "CN", "880": "BD", "886": "TW",

	"90": "TR", "91": "IN", "92": "PK", "93": "AF", "94": "LK", "95": "MM", "960": "MV",
	"961": "LB", "962": "JO", "963": "SY", "964": "IQ", "965": "KW", "966": "SA", "967": "YE",
	"968": "OM", "970": "PS", "971": "AE", "972": "IL", "973": "BH", "974": "QA", "975": "BT",
	"976": "MN", "977": "NP", "98": "IR", "992": "TJ", "993": "TM", "994": "AZ", "995": "GE",
	"996": "KG", "998": "UZ",
}

// nanpAreas are the +1 area codes outside the United States, by country.
var nanpAreas = map[string][]string{
	"CA": {"204", "226", "236", "249", "250", "257", "263", "289", "306", "343", "354", "365",
		"367", "368", "382", "387", "403", "416", "418", "428", "431", "437", "438", "450", "460",
		"468", "474", "506", "514", "519", "548", "579", "581", "584", "587", "600", "604", "613",
		"622", "633", "639", "644", "647", "655", "672", "677", "683", "688", "705", "709", "742",
		"753", "778", "780", "782", "807", "819", "825", "867", "873", "879", "902", "905", "942"},
	"AG": {"268"}, "AI": {"264"}, "AS": {"684"}, "BB": {"246"}, "BM": {"441"}, "BS": {"242"},
	"DM": {"767"}, "DO": {"809", "829", "849"}, "GD": {"473"}, "GU": {"671"}, "JM": {"658", "876"},
	"KN": {"869"}, "KY": {"345"}, "LC": {"758"}, "MP": {"670"}, "MS": {"664"}, "PR": {"787", "939"},
	"SX": {"721"}, "TC": {"649"}, "TT": {"868"}, "VC": {"784"}, "VG": {"284"}, "VI": {"340"},
}

// longestCode is the longest prefix in callingCodes.
const longestCode = 4

// knownCountry says which country codes a number can be placed in: the only ones a price
// can be given for.
var knownCountry = map[string]bool{}

func init() {
	for cc, areas := range nanpAreas {
		for _, a := range areas {
			callingCodes["1"+a] = cc
		}
	}
	for _, cc := range callingCodes {
		knownCountry[cc] = true
	}
}

// CountryOf returns the ISO 3166 alpha-2 country of a phone number in international form
// (a WhatsApp id like 31612345678, or +31 6 1234 5678), by the longest calling-code prefix;
// "" when it is not such a number or its code is not one of a country.
func CountryOf(number string) string {
	digits := strings.TrimPrefix(strings.TrimSpace(number), "+")
	n := 0
	var b [16]byte
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "" // longer than E.164's 15 digits
			}
			b[n] = c
			n++
		case n > 0 && (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.'):
			// written for people: +31 6-1234 5678
		default:
			return ""
		}
	}
	// E.164 numbers have at most 15 digits; the shortest in use have 7 or so.
	if n < 7 || n > 15 || b[0] == '0' {
		return ""
	}
	for l := min(longestCode, n); l > 0; l-- {
		if cc, ok := callingCodes[string(b[:l])]; ok {
			return cc
		}
	}
	return ""
}
