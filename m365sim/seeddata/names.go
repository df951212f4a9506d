package seeddata

// Given names and surnames from several cultures, including the spellings
// that break naive code: diacritics (Zoë, José, Łukasz, Siobhán), an
// apostrophe (O'Brien), and letters with no decomposition (Ø, Ł, ß).
var givenNames = []string{
	// English-speaking
	"Adele", "Alex", "Allan", "Amelia", "Ben", "Charlotte", "Chloe", "Daniel", "Diego", "Emily",
	"Ethan", "Grace", "Harry", "Isaac", "Jack", "James", "Jessica", "Joni", "Lee", "Lidia",
	"Lynne", "Megan", "Miriam", "Nestor", "Olivia", "Patti", "Pradeep", "Sophie", "Thomas", "William",
	// Irish
	"Aoife", "Ciarán", "Niamh", "Seán", "Siobhán", "Saoirse", "Pádraig", "Róisín",
	// French
	"Amélie", "Benoît", "Chloé", "Élodie", "François", "Hélène", "Jérôme", "Léa", "Mathéo", "Zoë",
	// Spanish and Portuguese
	"Álvaro", "Begoña", "Inés", "João", "José", "Lucía", "María", "Martín", "Raúl", "Sofía",
	// German, Dutch, Scandinavian
	"Björn", "Jürgen", "Jörg", "Lars", "Maximilian", "Sören", "Ingrid", "Astrid", "Kåre", "Øystein",
	"Anke", "Femke", "Sanne", "Bram",
	// Polish, Czech, Turkish
	"Łukasz", "Małgorzata", "Agnieszka", "Wojciech", "Zofia", "Jiří", "Tomáš", "Ayşe", "Çağrı", "Emre",
	// Indian
	"Aarav", "Ananya", "Arjun", "Deepika", "Kavya", "Priya", "Rahul", "Rohan", "Sanjay", "Vikram",
	// Chinese, Japanese, Korean, Vietnamese (romanized)
	"Wei", "Jing", "Xiaoming", "Mei", "Haruto", "Yui", "Sakura", "Kenji", "Min-jun", "Seo-yeon",
	"Minh", "Thảo", "Linh",
	// African and Arabic
	"Chinedu", "Ngozi", "Oluwaseun", "Amara", "Kwame", "Thandiwe", "Ahmed", "Fatima", "Omar", "Layla",
	"Yusuf", "Noor",
}

var surnames = []string{
	"Vance", "Wilber", "Hunt", "Lambert", "Gonzales", "Grady", "Sherwood", "Fernandez", "Bowen", "Adams",
	"Smith", "Johnson", "Williams", "Brown", "Taylor", "Walker", "Harris", "Clarke", "Wright", "Mitchell",
	"O'Brien", "O'Connor", "Ó Súilleabháin", "Murphy", "Kelly", "McCarthy", "Byrne",
	"Dubois", "Lefèvre", "Moreau", "Rousseau", "Girard", "Bonnet",
	"García", "Martínez", "Rodríguez", "Núñez", "Pérez", "Gonçalves", "Conceição", "Araújo",
	"Müller", "Schröder", "Weiß", "Fischer", "Becker", "van der Berg", "de Vries", "Jansen",
	"Lindqvist", "Sørensen", "Åberg", "Johansson", "Halvorsen",
	"Kowalski", "Wiśniewski", "Wójcik", "Nowak", "Dvořák", "Novák", "Yılmaz", "Öztürk", "Çelik",
	"Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Banerjee",
	"Wang", "Li", "Zhang", "Chen", "Liu", "Tanaka", "Suzuki", "Satō", "Kim", "Park", "Nguyễn", "Trần",
	"Okafor", "Adeyemi", "Mensah", "Dlamini", "Nkosi", "Haddad", "Al-Sayed", "Rahman", "Khan",
}

// department is a department with job titles that fit it; the first titles
// are the common ones, the last the senior ones.
type department struct {
	name   string
	titles []string
	weight int
}

var departments = []department{
	{"Sales", []string{"Account Executive", "Sales Representative", "Inside Sales Representative", "Account Manager", "Sales Manager", "Director of Sales"}, 18},
	{"Marketing", []string{"Marketing Specialist", "Content Strategist", "Product Marketing Manager", "Marketing Manager", "Chief Marketing Officer"}, 9},
	{"Finance", []string{"Accountant", "Financial Analyst", "Accounts Payable Specialist", "Controller", "Finance Director", "Chief Financial Officer"}, 7},
	{"Human Resources", []string{"HR Generalist", "Recruiter", "HR Business Partner", "HR Manager", "Director of People"}, 5},
	{"Engineering", []string{"Software Engineer", "Senior Software Engineer", "QA Engineer", "Site Reliability Engineer", "Engineering Manager", "Principal Engineer"}, 20},
	{"IT", []string{"IT Support Specialist", "Systems Administrator", "Network Engineer", "Security Analyst", "IT Manager", "Chief Information Officer"}, 7},
	{"Legal", []string{"Paralegal", "Legal Counsel", "Compliance Officer", "General Counsel"}, 3},
	{"Operations", []string{"Operations Coordinator", "Logistics Specialist", "Facilities Manager", "Operations Manager", "Chief Operating Officer"}, 8},
	{"Customer Support", []string{"Support Engineer", "Customer Success Manager", "Technical Account Manager", "Support Team Lead", "Director of Customer Success"}, 10},
	{"Research & Development", []string{"Research Scientist", "Data Scientist", "Research Engineer", "Research Manager"}, 6},
	{"Product Management", []string{"Product Manager", "Senior Product Manager", "Product Owner", "Group Product Manager"}, 5},
	{"Retail", []string{"Retail Associate", "Store Manager", "Retail Manager", "Visual Merchandiser"}, 2},
}

// site is an office with the country's ISO 3166-1 alpha-2 code (the code
// usageLocation takes) and its telephone country code.
type site struct {
	city, country, iso, dial string
	weight                   int
}

var sites = []site{
	{"Seattle", "United States", "US", "+1 206", 12},
	{"Redmond", "United States", "US", "+1 425", 10},
	{"New York", "United States", "US", "+1 212", 6},
	{"Austin", "United States", "US", "+1 512", 3},
	{"Toronto", "Canada", "CA", "+1 416", 4},
	{"Mexico City", "Mexico", "MX", "+52 55", 2},
	{"São Paulo", "Brazil", "BR", "+55 11", 3},
	{"London", "United Kingdom", "GB", "+44 20", 7},
	{"Dublin", "Ireland", "IE", "+353 1", 4},
	{"Paris", "France", "FR", "+33 1", 4},
	{"Berlin", "Germany", "DE", "+49 30", 4},
	{"München", "Germany", "DE", "+49 89", 3},
	{"Zürich", "Switzerland", "CH", "+41 44", 2},
	{"Amsterdam", "Netherlands", "NL", "+31 20", 3},
	{"Stockholm", "Sweden", "SE", "+46 8", 2},
	{"København", "Denmark", "DK", "+45", 1},
	{"Madrid", "Spain", "ES", "+34 91", 3},
	{"Kraków", "Poland", "PL", "+48 12", 3},
	{"İstanbul", "Türkiye", "TR", "+90 212", 2},
	{"Dubai", "United Arab Emirates", "AE", "+971 4", 2},
	{"Lagos", "Nigeria", "NG", "+234 1", 2},
	{"Johannesburg", "South Africa", "ZA", "+27 11", 2},
	{"Bengaluru", "India", "IN", "+91 80", 6},
	{"Singapore", "Singapore", "SG", "+65", 3},
	{"Tokyo", "Japan", "JP", "+81 3", 3},
	{"Seoul", "South Korea", "KR", "+82 2", 2},
	{"Sydney", "Australia", "AU", "+61 2", 3},
}

// asciiFold maps letters without a usable ASCII form to one; letters that
// are not here and not ASCII are dropped from aliases.
var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ą': "a", 'æ': "ae",
	'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'İ': "i",
	'ł': "l", 'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ß': "ss", 'ť': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u",
	'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
	'ả': "a", 'ạ': "a", 'ễ': "e", 'ệ': "e", 'ố': "o", 'ộ': "o", 'ơ': "o", 'ư': "u", 'ầ': "a", 'ấ': "a",
}

// Group name material.
var (
	regions    = []string{"EMEA", "Americas", "APAC", "North America", "DACH", "Nordics", "UK & Ireland"}
	codenames  = []string{"Falcon", "Atlas", "Mercury", "Orion", "Phoenix", "Nimbus", "Aurora", "Everest", "Helix", "Kestrel", "Lighthouse", "Meridian", "Neptune", "Odyssey", "Pegasus", "Quasar", "Sequoia", "Tundra", "Vortex", "Zephyr", "Comet", "Granite", "Harbor", "Juniper", "Maple", "Obsidian", "Polaris", "Redwood", "Summit", "Trident"}
	projectFmt = []string{"Project %s", "%s Launch Team", "%s Steering Committee", "%s Working Group"}
	socialClub = []string{"Book Club", "Running Club", "Photography Club", "Board Games", "Women in Tech", "Pride Network", "Parents Network", "Green Team", "Volunteers", "Coffee Lovers", "Cycling Club", "Chess Club"}
	secGroups  = []string{"SG-VPN-Users", "SG-MFA-Exempt", "SG-Intune-Pilot", "SG-Finance-ReadOnly", "SG-Admins-Tier1", "SG-Admins-Tier0", "SG-Guest-Access", "SG-License-E3", "SG-License-E5", "SG-Conditional-Access-Pilot", "SG-Laptop-Encryption", "SG-Printers-HQ", "SG-Wifi-Corp", "SG-Legacy-Apps", "SG-BreakGlass-Exclude"}
)
