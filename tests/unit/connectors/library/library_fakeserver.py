"""A small, protocol-faithful OAI-PMH 2.0 and SRU 1.2/2.0 server on loopback, used to record cassettes.

It serves the documented example payloads described in ``cassettes/README.md``. Each error code
is produced by the condition the OAI-PMH specification (section 3.6) or the SRU diagnostics list
gives for it, never by a scripted switch. Run the library tests with ``--record-mode=all`` to
record the cassettes again from it; normally they replay without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

__all__ = ["CANONICAL", "FakeLibraryServer", "MARC_RECORDS", "Item", "Repository", "Streamed", "dc", "generated_list_records"]

#: the origin cassettes are stored under (requests to the live server are rewritten to it)
CANONICAL = "http://library.example.edu"

OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
)
OAI_DC_OPEN = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd">'
)
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "marc21": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", "http://www.loc.gov/MARC21/slim"),
}
VERBS = ("GetRecord", "Identify", "ListIdentifiers", "ListMetadataFormats", "ListRecords", "ListSets")


def dc(**elements: str | list[str]) -> str:
    parts = []
    for name, values in elements.items():
        for value in [values] if isinstance(values, str) else values:
            parts.append(f"<dc:{name}>{escape(value)}</dc:{name}>")
    return OAI_DC_OPEN + "".join(parts) + "</oai_dc:dc>"


def marc(leader: str, controls: dict[str, str], fields: list[tuple[str, str, str, list[tuple[str, str]]]]) -> str:
    out = ['<record xmlns="http://www.loc.gov/MARC21/slim">', f"<leader>{leader}</leader>"]
    out += [f'<controlfield tag="{tag}">{escape(value)}</controlfield>' for tag, value in controls.items()]
    for tag, ind1, ind2, subfields in fields:
        subs = "".join(f'<subfield code="{code}">{escape(value)}</subfield>' for code, value in subfields)
        out.append(f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">{subs}</datafield>')
    out.append("</record>")
    return "".join(out)


# --- MARC 21 bibliographic records in the shape LoC's SRU server and Koha's OAI marc21 give --------

MARC_RECORDS = [
    marc(
        "02009cam a2200409 i 4500",
        {"001": "15747734", "003": "DLC", "005": "20100223111355.0", "008": "090511s2009    maua     b    001 0 eng  "},
        [
            ("010", " ", " ", [("a", "  2009008593")]),
            ("020", " ", " ", [("a", "9780262033848 (hardcover : alk. paper)")]),
            ("020", " ", " ", [("a", "9780262533058 (pbk. : alk. paper)")]),
            ("050", "0", "0", [("a", "QA76.6"), ("b", ".C662 2009")]),
            ("245", "1", "0", [("a", "Introduction to algorithms /"), ("c", "Thomas H. Cormen ... [et al.].")]),
            ("250", " ", " ", [("a", "3rd ed.")]),
            ("260", " ", " ", [("a", "Cambridge, Mass. :"), ("b", "MIT Press,"), ("c", "c2009.")]),
            ("504", " ", " ", [("a", "Includes bibliographical references (p. [1231]-1250) and index.")]),
            ("650", " ", "0", [("a", "Computer programming.")]),
            ("650", " ", "0", [("a", "Computer algorithms.")]),
            ("700", "1", " ", [("a", "Cormen, Thomas H.")]),
            ("700", "1", " ", [("a", "Leiserson, Charles E.")]),
            ("700", "1", " ", [("a", "Rivest, Ronald L.")]),
            ("700", "1", " ", [("a", "Stein, Clifford.")]),
        ],
    ),
    marc(
        "01032cam a2200289 a 4500",
        {"001": "2131405", "003": "DLC", "008": "851004s1986    nyua     b    001 0 eng  "},
        [
            ("010", " ", " ", [("a", "   85021596 ")]),
            ("020", " ", " ", [("a", "0688042872 :")]),
            ("100", "1", " ", [("a", "Bakker, Robert T.")]),
            ("245", "1", "4", [("a", "The dinosaur heresies :"), ("b", "new theories unlocking the mystery of the dinosaurs and their extinction /"), ("c", "Robert T. Bakker.")]),
            ("260", " ", " ", [("a", "New York :"), ("b", "W. Morrow,"), ("c", "c1986.")]),
            ("504", " ", " ", [("a", "Bibliography: p. 461-471.")]),
            ("650", " ", "0", [("a", "Dinosaurs.")]),
            ("650", " ", "0", [("a", "Paleontology"), ("y", "Mesozoic.")]),
        ],
    ),
    marc(
        "00996nam a22002658i 4500",
        {"001": "19356837", "003": "DLC", "008": "161201s2017    enk      b    001 0 eng  "},
        [
            ("020", " ", " ", [("a", "9781107189126"), ("q", "hardback")]),
            ("100", "1", " ", [("a", "Scott, Elizabeth,"), ("e", "author.")]),
            ("245", "1", "0", [("a", "Dinosaur evolution in the Mesozoic /"), ("c", "Elizabeth Scott.")]),
            ("264", " ", "1", [("a", "Cambridge :"), ("b", "Cambridge University Press,"), ("c", "2017.")]),
            ("520", " ", " ", [("a", "A survey of dinosaur lineages from the Triassic to the end of the Cretaceous.")]),
            ("650", " ", "0", [("a", "Dinosaurs"), ("x", "Evolution.")]),
            ("651", " ", "0", [("a", "North America.")]),
            ("700", "1", " ", [("a", "Hughes, Anna,"), ("e", "editor.")]),
            ("856", "4", "1", [("u", "https://doi.org/10.1017/9781316981733"), ("q", "text/html")]),
        ],
    ),
    marc(
        "00812cas a2200241 a 4500",
        {"001": "2002227296", "003": "DLC", "008": "020502c20019999enkqr p       0   a0eng  "},
        [
            ("022", "0", " ", [("a", "1476-4687")]),
            ("245", "0", "0", [("a", "Nature.")]),
            ("260", " ", " ", [("a", "London :"), ("b", "Nature Pub. Group")]),
            ("650", " ", "0", [("a", "Science"), ("v", "Periodicals.")]),
            ("856", "4", "0", [("u", "https://www.nature.com/")]),
        ],
    ),
    marc(
        "00750cam a2200217 a 4500",
        {"001": "3342131", "003": "DLC", "008": "970113s1997    caua          001 0 eng  "},
        [
            ("020", " ", " ", [("a", "0520208927")]),
            ("110", "2", " ", [("a", "Natural History Museum of Los Angeles County.")]),
            ("245", "1", "0", [("a", "Dinosaurs of the West /"), ("c", "Natural History Museum of Los Angeles County.")]),
            ("260", " ", " ", [("a", "Berkeley :"), ("b", "University of California Press,"), ("c", "1997.")]),
            ("650", " ", "0", [("a", "Dinosaurs"), ("z", "West (U.S.)")]),
        ],
    ),
]


@dataclass
class Item:
    identifier: str
    datestamp: str
    sets: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # prefix -> XML
    deleted: bool = False


@dataclass
class Repository:
    name: str
    granularity: str
    deleted_record: str
    earliest: str
    items: list[Item]
    page_size: int = 3
    formats: tuple[str, ...] = ("oai_dc",)
    sets: dict[str, str] = field(default_factory=dict)
    tokens_expire: bool = False
    admin: str = "repository-admin@example.edu"
    #: resumption tokens carry the (datestamp, identifier) of the page's last record, and lists are
    #: ordered by it (as repositories that page by datestamp do): a record changed during a harvest
    #: moves past the token and is listed again, and no record is skipped
    keyset_tokens: bool = False
    #: called with the repository and the number of list pages served so far, after each page
    #: (a test changes records "during the harvest" there)
    after_page: Callable[[Repository, int], None] | None = None
    pages_served: int = 0
    #: once this many list pages were served, list requests get 503 with a Retry-After of an hour
    #: (OAI-PMH flow control, section 3.1.2.2): a harvest stops there
    busy_after_pages: int | None = None


def _dspace() -> Repository:
    handle = "http://hdl.handle.net/123456789/"
    theses = [
        ("Soil moisture dynamics in restored wetlands", "Okafor, Chinwe", ["Hydrology", "Wetland restoration"], "2019-05-14T08:21:33Z"),
        ("A corpus study of code-switching in bilingual classrooms", "Lindqvist, Maja", ["Sociolinguistics", "Bilingual education"], "2019-06-02T10:00:00Z"),
        ("Low-cost sensors for urban air quality monitoring", "Haddad, Omar", ["Air quality", "Sensors"], "2020-01-20T15:42:10Z"),
        ("Teacher feedback and student motivation in secondary mathematics", "Moreau, Claire", ["Mathematics education"], "2020-03-11T09:05:00Z"),
        ("Phylogeography of alpine beetles", "Novak, Tomas", ["Entomology", "Phylogeography"], "2021-09-30T12:00:00Z"),
        ("Open educational resources in teacher training", "Silva, Ana", ["Open educational resources"], "2022-02-01T08:00:00Z"),
    ]
    items = []
    for number, (title, creator, subjects, stamp) in enumerate(theses, start=10):
        items.append(
            Item(
                f"oai:dspace.example.edu:123456789/{number}",
                stamp,
                ["com_123456789_1", "col_123456789_2" if number % 2 else "col_123456789_3"],
                {
                    "oai_dc": dc(
                        title=title,
                        creator=creator,
                        contributor="Example University. Faculty of Science",
                        subject=subjects,
                        description=["Thesis (Ph.D.)--Example University.", f"Abstract of {title.lower()}."],
                        date=[stamp, stamp[:4]],
                        type="Thesis",
                        identifier=f"{handle}{number}",
                        language="en",
                        rights="Attribution 4.0 International",
                        format="application/pdf",
                        publisher="Example University",
                    )
                },
            )
        )
    items.insert(3, Item("oai:dspace.example.edu:123456789/9", "2019-12-01T00:00:00Z", ["com_123456789_1"], deleted=True))
    return Repository(
        "DSpace at Example University",
        "YYYY-MM-DDThh:mm:ssZ",
        "persistent",
        "2019-05-14T08:21:33Z",
        items,
        formats=("oai_dc",),
        sets={"com_123456789_1": "Faculty of Science", "col_123456789_2": "Theses (odd)", "col_123456789_3": "Theses (even)"},
    )


def _koha() -> Repository:
    dcs = [
        dc(title="Introduction to algorithms", creator="Cormen, Thomas H.", publisher="MIT Press", date="c2009", identifier="ISBN 9780262033848", type="text"),
        dc(title="The dinosaur heresies", creator="Bakker, Robert T.", publisher="W. Morrow", date="c1986", identifier="URN:ISBN:0688042872", type="text"),
        dc(title="Dinosaur evolution in the Mesozoic", creator="Scott, Elizabeth", date="2017", identifier="https://doi.org/10.1017/9781316981733", type="text"),
    ]
    items = [
        Item(f"oai:koha.example.edu:{n}", stamp, [], {"marc21": MARC_RECORDS[i], "oai_dc": dcs[i]})
        for i, (n, stamp) in enumerate([(101, "2023-02-01T10:00:00Z"), (102, "2023-02-03T11:30:00Z"), (103, "2023-03-01T08:15:00Z")])
    ]
    items.append(Item("oai:koha.example.edu:99", "2023-02-02T09:00:00Z", [], deleted=True))
    return Repository("Example Public Library (Koha)", "YYYY-MM-DDThh:mm:ssZ", "persistent", "2023-01-01T00:00:00Z", items, formats=("oai_dc", "marc21"))


def _spec(expiring: bool) -> Repository:
    # the records of the OAI-PMH 2.0 specification's ListRecords / GetRecord examples (section 4.5)
    items = [
        Item("oai:arXiv.org:hep-th/9901001", "1999-12-25", ["physics:hep", "math"], {"oai_dc": dc(
            title="Investigations of Radioactivity", creator=["Ernest Rutherford"], date="1899-01-01")}),
        Item("oai:arXiv.org:hep-th/9901007", "1999-12-21", ["physics:hep"], deleted=True),
        Item("oai:arXiv.org:quant-ph/9902037", "1999-02-23", ["physics:quant-ph"], {"oai_dc": dc(
            title="Quantum Mechanics of Condensed Matter", creator="Paul Dirac", date="1999-02-10")}),
    ]
    return Repository(
        "Repository of the OAI-PMH 2.0 specification examples",
        "YYYY-MM-DD",
        "transient",
        "1990-02-01",
        items,
        page_size=1 if expiring else 3,
        sets={"physics": "Physics", "physics:hep": "High Energy Physics", "physics:quant-ph": "Quantum Physics", "math": "Mathematics"},
        tokens_expire=expiring,
    )


# billion laughs (OWASP's classic) and an XXE reading /etc/passwd
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + ']>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&lol9;</responseDate></OAI-PMH>\n'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2002-02-08T12:00:01Z</responseDate>'
    "<Identify><repositoryName>&xxe;</repositoryName></Identify></OAI-PMH>\n"
)


def _norm(stamp: str) -> str:
    return stamp if "T" in stamp else stamp + "T00:00:00Z"


def _key(item: Item) -> tuple[str, str]:
    return _norm(item.datestamp), item.identifier


class OaiProvider:
    def __init__(self, repo: Repository, base_url: str) -> None:
        self.repo = repo
        self.base_url = base_url

    def answer(self, args: dict[str, list[str]]) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        verbs = args.get("verb", [])
        request_attrs = "".join(f" {k}={quoteattr(v[0])}" for k, v in args.items() if len(v) == 1 and k in (*VERBS, "verb", "metadataPrefix", "from", "until", "set", "resumptionToken", "identifier"))
        head = f"{OAI_HEAD}<responseDate>{now}</responseDate>\n"
        if len(verbs) != 1 or verbs[0] not in VERBS:
            return head + f"<request>{self.base_url}</request>\n<error code=\"badVerb\">Illegal OAI verb</error>\n</OAI-PMH>\n"
        verb = verbs[0]
        body = self._verb(verb, {k: v for k, v in args.items() if k != "verb"})
        return head + f"<request{request_attrs}>{self.base_url}</request>\n{body}\n</OAI-PMH>\n"

    @staticmethod
    def _error(code: str, text: str) -> str:
        return f'<error code="{code}">{escape(text)}</error>'

    def _verb(self, verb: str, args: dict[str, list[str]]) -> str:
        repo = self.repo
        allowed = {
            "Identify": set(), "ListMetadataFormats": {"identifier"}, "ListSets": {"resumptionToken"},
            "GetRecord": {"identifier", "metadataPrefix"},
            "ListRecords": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
            "ListIdentifiers": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
        }[verb]  # fmt: skip
        illegal = [k for k in args if k not in allowed] + [k for k, v in args.items() if len(v) > 1]
        if illegal:
            return self._error("badArgument", f"Illegal or repeated argument: {illegal[0]}")
        one = {k: v[0] for k, v in args.items()}
        if verb == "Identify":
            return (
                f"<Identify><repositoryName>{escape(repo.name)}</repositoryName><baseURL>{self.base_url}</baseURL>"
                f"<protocolVersion>2.0</protocolVersion><adminEmail>{repo.admin}</adminEmail>"
                f"<earliestDatestamp>{repo.earliest}</earliestDatestamp><deletedRecord>{repo.deleted_record}</deletedRecord>"
                f"<granularity>{repo.granularity}</granularity></Identify>"
            )
        if verb == "ListMetadataFormats":
            formats = "".join(
                f"<metadataFormat><metadataPrefix>{p}</metadataPrefix><schema>{FORMATS[p][0]}</schema>"
                f"<metadataNamespace>{FORMATS[p][1]}</metadataNamespace></metadataFormat>"
                for p in repo.formats
            )
            return f"<ListMetadataFormats>{formats}</ListMetadataFormats>"
        if verb == "ListSets":
            if not repo.sets:
                return self._error("noSetHierarchy", "This repository does not support sets")
            sets = "".join(f"<set><setSpec>{s}</setSpec><setName>{escape(n)}</setName></set>" for s, n in repo.sets.items())
            return f"<ListSets>{sets}</ListSets>"
        if verb == "GetRecord":
            if "identifier" not in one or "metadataPrefix" not in one:
                return self._error("badArgument", "GetRecord needs identifier and metadataPrefix")
            if one["metadataPrefix"] not in repo.formats:
                return self._error("cannotDisseminateFormat", f"{one['metadataPrefix']} is not supported by the item or by the repository")
            item = next((i for i in repo.items if i.identifier == one["identifier"]), None)
            if item is None:
                return self._error("idDoesNotExist", f"No matching identifier in {repo.name}")
            return f"<GetRecord>{self._record(item, one['metadataPrefix'])}</GetRecord>"
        return self._list(verb, one)

    def _list(self, verb: str, one: dict[str, str]) -> str:
        repo = self.repo
        if "resumptionToken" in one:
            if len(one) > 1:
                return self._error("badArgument", "resumptionToken is an exclusive argument")
            parts = one["resumptionToken"].split("!")
            position = parts[4] if len(parts) == 5 else ""
            valid = position.startswith("k") if repo.keyset_tokens else position.isdigit()
            if repo.tokens_expire or not valid:
                return self._error("badResumptionToken", "The value of the resumptionToken argument is invalid or expired")
            prefix, start, end, set_spec = parts[:4]
            offset = 0 if repo.keyset_tokens else int(position)
            after = position[1:] if repo.keyset_tokens else ""
        else:
            if "metadataPrefix" not in one:
                return self._error("badArgument", "metadataPrefix is required")
            prefix, start, end, set_spec, offset = one["metadataPrefix"], one.get("from", ""), one.get("until", ""), one.get("set", ""), 0
            after = ""
            for value in (start, end):
                if value and not self._valid_stamp(value):
                    return self._error("badArgument", f"{value} is not a valid datestamp for granularity {repo.granularity}")
            if start and end and len(start) != len(end):
                return self._error("badArgument", "from and until must have the same granularity")
            if start and end and _norm(start) > _norm(end):
                return self._error("badArgument", "from is after until")
        if prefix not in repo.formats:
            return self._error("cannotDisseminateFormat", f"{prefix} is not supported by this repository")
        if set_spec and not repo.sets:
            return self._error("noSetHierarchy", "This repository does not support sets")
        matching = [
            item for item in repo.items
            if (not start or _norm(item.datestamp) >= _norm(start))
            and (not end or _norm(item.datestamp) <= _norm(end) if len(end) > 10 else not end or item.datestamp[:10] <= end)
            and (not set_spec or any(s == set_spec or s.startswith(set_spec + ":") for s in item.sets))
        ]  # fmt: skip
        if not matching:
            return self._error("noRecordsMatch", "The combination of the values of the from, until, set and metadataPrefix arguments results in an empty list.")
        if repo.keyset_tokens:
            matching.sort(key=_key)
            last = tuple(after.split("~", 1)) if after else None
            offset = sum(1 for item in matching if _key(item) <= last) if last else 0
        page = matching[offset : offset + repo.page_size]
        body = "".join(self._record(i, prefix) if verb == "ListRecords" else self._header(i) for i in page)
        following = offset + repo.page_size
        size = len(matching)
        position = "k" + "~".join(_key(page[-1])) if repo.keyset_tokens and page else str(following)
        repo.pages_served += 1
        if repo.after_page is not None:
            repo.after_page(repo, repo.pages_served)
        if following < size:
            token = "!".join([prefix, start, end, set_spec, position])
            expiry = ' expirationDate="2002-06-01T23:20:00Z"' if repo.tokens_expire else ""
            body += f'<resumptionToken{expiry} completeListSize="{size}" cursor="{offset}">{escape(token)}</resumptionToken>'
        elif offset:
            body += f'<resumptionToken completeListSize="{size}" cursor="{offset}"/>'
        return f"<{verb}>{body}</{verb}>"

    def _valid_stamp(self, value: str) -> bool:
        formats = ["%Y-%m-%d"] + (["%Y-%m-%dT%H:%M:%SZ"] if self.repo.granularity != "YYYY-MM-DD" else [])
        for fmt in formats:
            try:
                datetime.strptime(value, fmt)
                return True
            except ValueError:
                continue
        return False

    @staticmethod
    def _header(item: Item) -> str:
        status = ' status="deleted"' if item.deleted else ""
        sets = "".join(f"<setSpec>{s}</setSpec>" for s in item.sets)
        return f"<header{status}><identifier>{item.identifier}</identifier><datestamp>{item.datestamp}</datestamp>{sets}</header>"

    def _record(self, item: Item, prefix: str) -> str:
        if item.deleted:
            return f"<record>{self._header(item)}</record>"
        return f"<record>{self._header(item)}<metadata>{item.metadata[prefix]}</metadata></record>"


# --- SRU --------------------------------------------------------------------------------------

SRU_NS = {"1.1": "http://www.loc.gov/zing/srw/", "1.2": "http://www.loc.gov/zing/srw/", "2.0": "http://docs.oasis-open.org/ns/search-ws/sruResponse"}
DIAG_NS = {"1.1": "http://www.loc.gov/zing/srw/diagnostic/", "1.2": "http://www.loc.gov/zing/srw/diagnostic/", "2.0": "http://docs.oasis-open.org/ns/search-ws/diagnostic"}
KNOWN_INDEXES = ("dc.title", "dc.subject", "dc.creator", "bath.isbn", "cql.anywhere")
SRU_DC = [
    '<srw_dc:dc xmlns:srw_dc="info:srw/schema/1/dc-schema" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    + "".join(f"<dc:{k}>{escape(v)}</dc:{k}>" for k, v in pairs)
    + "</srw_dc:dc>"
    for pairs in [
        [("title", "Introduction to algorithms /"), ("creator", "Cormen, Thomas H."), ("publisher", "MIT Press"), ("date", "c2009."), ("identifier", "9780262033848")],
        [("title", "The dinosaur heresies"), ("creator", "Bakker, Robert T."), ("date", "c1986."), ("identifier", "0688042872")],
        [("title", "Dinosaur evolution in the Mesozoic"), ("creator", "Scott, Elizabeth"), ("date", "2017."), ("identifier", "https://doi.org/10.1017/9781316981733")],
        [("title", "Nature."), ("identifier", "ISSN 1476-4687")],
        [("title", "Dinosaurs of the West"), ("creator", "Natural History Museum of Los Angeles County."), ("identifier", "0520208927")],
    ]
]


def sru_answer(args: dict[str, list[str]]) -> str:
    one = {k: v[0] for k, v in args.items()}
    version = one.get("version", "1.2" if "operation" in one else "2.0")
    ns, diag_ns = SRU_NS.get(version, SRU_NS["1.2"]), DIAG_NS.get(version, DIAG_NS["1.2"])
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<zs:searchRetrieveResponse xmlns:zs="{ns}">'
    version_el = f"<zs:version>{escape(version)}</zs:version>"

    def diagnostic(number: int, message: str, details: str = "") -> str:
        det = f"<diag:details>{escape(details)}</diag:details>" if details else ""
        return (
            f"{head}{version_el}<zs:numberOfRecords>0</zs:numberOfRecords><zs:diagnostics>"
            f'<diag:diagnostic xmlns:diag="{diag_ns}"><diag:uri>info:srw/diagnostic/1/{number}</diag:uri>{det}'
            f"<diag:message>{escape(message)}</diag:message></diag:diagnostic></zs:diagnostics></zs:searchRetrieveResponse>\n"
        )

    if version not in SRU_NS:
        return diagnostic(5, "Unsupported version", version)
    if version != "2.0" and one.get("operation") != "searchRetrieve":
        return diagnostic(4, "Unsupported operation", one.get("operation", ""))
    query = one.get("query")
    if not query:
        return diagnostic(7, "Mandatory parameter not supplied", "query")
    if query.count('"') % 2 or query.strip().startswith(("=", "and ", "or ")) or query.strip().endswith("="):
        return diagnostic(10, "Query syntax error", query)
    if "=" in query:
        index = query.split("=", 1)[0].strip().lower()
        if index not in KNOWN_INDEXES:
            return diagnostic(16, "Unsupported index", index)
    schema = one.get("recordSchema", "marcxml")
    if schema not in ("marcxml", "dc"):
        return diagnostic(66, "Unknown schema for retrieval", schema)
    start = int(one.get("startRecord", "1"))
    maximum = int(one.get("maximumRecords", "10"))
    words = query.split("=", 1)[-1].strip().strip('"').lower()
    hits = [i for i, rec in enumerate(MARC_RECORDS) if words in ("", "*") or words in rec.lower()]
    total = len(hits)
    if total and start > total:
        return diagnostic(61, "First record position out of range", str(start))
    records = ""
    for position in range(start, min(total, start + maximum - 1) + 1) if maximum else ():
        index = hits[position - 1]
        data = MARC_RECORDS[index] if schema == "marcxml" else SRU_DC[index]
        schema_name = "info:srw/schema/1/marcxml-v1.1" if schema == "marcxml" else "info:srw/schema/1/dc-v1.1"
        packing = "<zs:recordXMLEscaping>xml</zs:recordXMLEscaping>" if version == "2.0" else "<zs:recordPacking>xml</zs:recordPacking>"
        records += (
            f"<zs:record><zs:recordSchema>{schema_name}</zs:recordSchema>{packing}"
            f"<zs:recordData>{data}</zs:recordData><zs:recordPosition>{position}</zs:recordPosition></zs:record>"
        )
    following = start + maximum
    next_el = f"<zs:nextRecordPosition>{following}</zs:nextRecordPosition>" if maximum and following <= total else ""
    records_el = f"<zs:records>{records}</zs:records>" if records else ""
    return f"{head}{version_el}<zs:numberOfRecords>{total}</zs:numberOfRecords>{records_el}{next_el}</zs:searchRetrieveResponse>\n"


# --- generated bodies, streamed: oversized and endless responses -------------------------------


def generated_list_records(records: int, subjects_per_record: int, *, endless: bool = False,
                           pad: int = 0) -> Iterable[bytes]:
    """A ListRecords response of ``records`` oai_dc records, each with ``subjects_per_record``
    ``<dc:subject>`` elements (of ``pad`` more characters each), produced chunk by chunk (never whole
    in memory); with ``endless`` the list never ends (a broken repository streaming forever)."""
    padding = "x" * pad
    yield (OAI_HEAD + "<responseDate>2026-12-08T00:00:00Z</responseDate>"
           '<request verb="ListRecords" metadataPrefix="oai_dc">' + CANONICAL + "/generated/oai</request><ListRecords>").encode()
    number = 0
    while endless or number < records:
        number += 1
        subjects = "".join(f"<dc:subject>s{n}{padding}</dc:subject>" for n in range(subjects_per_record))
        yield (f"<record><header><identifier>oai:generated:{number}</identifier><datestamp>2026-01-01</datestamp>"
               f"</header><metadata>{OAI_DC_OPEN}<dc:title>Record {number}</dc:title>{subjects}</oai_dc:dc>"
               "</metadata></record>").encode()
    yield b"</ListRecords></OAI-PMH>\n"


@dataclass
class Streamed:
    """A body served chunk by chunk: with ``Content-Length`` when ``length`` is given, else chunked."""

    chunks: Callable[[], Iterable[bytes]]
    length: int | None = None
    kind: str = "text/xml; charset=utf-8"


class FakeLibraryServer:
    """``with FakeLibraryServer() as server: server.url`` is ``http://127.0.0.1:PORT``.

    ``repositories`` maps paths to the OAI-PMH repositories served (a test may add or change one);
    ``streamed`` maps paths to generated bodies (Identify of a generated path is the spec's).
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, list[str]]]] = []
        owner = self
        providers = {
            "/dspace/oai/request": _dspace(),
            "/koha/cgi-bin/koha/oai.pl": _koha(),
            "/spec/oai": _spec(expiring=False),
            "/spec-expiring/oai": _spec(expiring=True),
        }
        self.repositories = providers
        self.streamed: dict[str, Streamed] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                args: dict[str, list[str]] = {}
                for key, value in parse_qsl(parts.query, keep_blank_values=True):
                    args.setdefault(key, []).append(value)
                owner.seen.append((parts.path, args))
                status, kind = 200, "text/xml; charset=utf-8"
                streamed = owner.streamed.get(parts.path)
                if streamed is not None and args.get("verb") == ["ListRecords"]:
                    self._stream(streamed)
                    return
                repo = providers.get(parts.path)
                busy = repo is not None and repo.busy_after_pages is not None and repo.pages_served >= repo.busy_after_pages
                if busy and args.get("verb", [""])[0] in ("ListRecords", "ListIdentifiers"):
                    self.send_response(503)
                    self.send_header("Retry-After", "3600")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if parts.path in providers or streamed is not None:
                    provider = providers.get(parts.path) or providers["/spec/oai"]  # Identify of a generated path
                    text = OaiProvider(provider, CANONICAL + parts.path).answer(args)
                elif parts.path == "/sru/lcdb":
                    text = sru_answer(args)
                elif parts.path == "/evil/billion-laughs":
                    text = BILLION_LAUGHS
                elif parts.path == "/evil/xxe":
                    text = XXE
                elif parts.path == "/not-oai":
                    text, kind = "<html><body>Welcome to the library</body></html>", "text/html"
                else:
                    status, text = 404, "not found"
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, streamed: Streamed) -> None:
                self.send_response(200)
                self.send_header("Content-Type", streamed.kind)
                if streamed.length is not None:
                    self.send_header("Content-Length", str(streamed.length))
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in streamed.chunks():
                        if streamed.length is not None:
                            self.wfile.write(chunk)
                        elif chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    if streamed.length is None:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading: what a size cap does

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeLibraryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
