"""The interface's own words (headings, buttons, labels of pages, PDFs and cards), Indonesian
first, and the project's words over them: `[words.<lang>]` in speechgen.toml gives a language of
its own words, or changes some of a language's (`templates.Words` puts them together).

Plain data and the check of a project's words, below the config that reads them.
"""

from __future__ import annotations

import difflib
import re

# Interface words (pages, PDFs), Indonesian first. A page in another language uses that
# language's words; a language without its own set here gets the English ones.
LABELS: dict[str, dict[str, str]] = {
    "id": {
        "edition_word": "Edisi", "editions": "Edisi", "corrected": "Dikoreksi", "corrected_on": "Dikoreksi pada", "recipient": "Penerima",
        "certificate": "Sertifikat penerbit (SHA-256)",
        "unreleased": "belum dirilis", "latest_edition": "edisi terbaru",
        "pdf_not_made": "PDF belum dibuat pada build ini",
        "what_changed": "Apa yang berubah", "changes_title": "Perubahan pada edisi {n}",
        "changes_intro": "Perbedaan kata demi kata antara edisi {a} dan edisi {b}. Teks yang dihapus dicoret, teks yang ditambahkan digarisbawahi.",
        "deleted": "dihapus", "inserted": "ditambahkan", "words_changed": "{d} kata dihapus, {i} kata ditambahkan",
        "title_word": "Judul", "back_to_speech": "Kembali ke pidato",
        "card_edition": "Kartu QR Anda mencetak sidik edisi {n}.",
        "card_superseded": "Pidato ini dikoreksi sesudah kartu dicetak; edisi terbaru adalah edisi {m}. Edisi {n} tetap tersedia dan sah.",
        "edition_list": "Semua edisi",
        "home": "Beranda", "archive": "Arsip", "years": "Tahun", "speakers": "Pembicara",
        "occasions": "Acara", "contents": "Daftar isi", "to_top": "Ke atas", "speaker": "Pembicara", "date": "Tanggal",
        "occasion": "Acara", "place": "Tempat", "language": "Bahasa", "translations": "Terjemahan",
        "latest": "Pidato terbaru", "all_speeches": "Semua pidato", "speeches": "pidato",
        "skip": "Langsung ke isi", "search": "Cari", "not_found": "Halaman tidak ditemukan",
        "not_found_text": "Halaman yang Anda cari tidak ada. Kembali ke beranda untuk melihat semua pidato.",
        "feed": "Umpan Atom", "download_pdf": "Unduh PDF", "pages": "halaman",
        "fingerprint": "Sidik SHA-256", "copy_for": "Salinan untuk", "read_full": "Baca pidato lengkap",
        "sample": "Contoh", "footnotes": "Catatan kaki", "published_by": "Diterbitkan oleh",
        "verify_hint": "Cocokkan sidik ini dengan yang tercetak pada kartu QR.",
        "side_by_side": "Baca berdampingan",
        "no_login": "Tautan ini tidak pernah meminta login atau pembayaran.", "copy_number": "Salinan nomor",
        "copy_public": "Versi publik pidato ini", "opening": "Pembukaan",
        "accessibility": "Aksesibilitas", "paragraph": "Paragraf", "search_site": "Cari pidato",
        "all": "Semua", "previous": "Sebelumnya", "next": "Berikutnya", "page_of": "Halaman {n} dari {m}",
        "listing_pages": "Halaman daftar", "all_years": "Semua tahun", "all_speakers": "Semua pembicara",
        "all_occasions": "Semua acara",
        "colophon": "Kolofon", "online": "Daring", "source": "Naskah sumber", "format": "Format",
        "colophon_text": "Salinan arsip ini memuat naskah sumbernya sebagai berkas lampiran.",
        "scan_phone": "Pindai dengan kamera ponsel", "edition": "Edisi {n}",
        "table": "Tabel", "search_words": "Kata dalam pidato", "searching": "Mencari…",
        "search_none": "Tidak ada pidato yang cocok.", "search_found": "{n} pidato ditemukan",
        "search_found_one": "1 pidato ditemukan", "search_more": "Tampilkan lebih banyak",
        "search_partial": "{n} pidato lain hanya memuat kata yang berawalan sama.",
        "search_partial_one": "1 pidato lain hanya memuat kata yang berawalan sama.",
        "search_none_whole": "Tidak ada pidato yang memuat kata itu secara utuh.",
        "search_partial_title": "Kata yang berawalan sama",
        "search_unavailable": "Pencarian tidak tersedia di sini (misalnya saat dibuka langsung dari disk). Gunakan daftar arsip di bawah.",
        "search_needs_js": "Pencarian memerlukan JavaScript. Semua pidato tetap dapat dibuka melalui daftar arsip di bawah.",
        "search_description": "Cari pidato menurut kata di dalam naskahnya.",
        "accessibility_statement": "Pernyataan Aksesibilitas",
        "withdrawn_on": "Ditarik pada", "moved": "Halaman ini telah pindah ke",
        "embargo_title": "Belum tersedia", "embargo_until": "Tersedia mulai {when}",
        "embargo_text": "Salinan Anda terbuka di alamat ini pada waktu tersebut. Simpan kartu QR Anda.",
        "embargo_mark": "EMBARGO: belum terbit, terbit {when}",
    },
    "en": {
        "edition_word": "Edition", "editions": "Editions", "corrected": "Corrected", "corrected_on": "Corrected on", "recipient": "Recipient",
        "certificate": "Publisher's certificate (SHA-256)",
        "unreleased": "not yet released", "latest_edition": "latest edition",
        "pdf_not_made": "PDF not made in this build",
        "what_changed": "What changed", "changes_title": "Changes in edition {n}",
        "changes_intro": "Word-by-word difference between edition {a} and edition {b}. Deleted text is struck through, inserted text is underlined.",
        "deleted": "deleted", "inserted": "inserted", "words_changed": "{d} words deleted, {i} words inserted",
        "title_word": "Title", "back_to_speech": "Back to the speech",
        "card_edition": "Your QR card shows the fingerprint of edition {n}.",
        "card_superseded": "This speech was corrected after the card was printed; the latest is edition {m}. Edition {n} stays available and authentic.",
        "edition_list": "All editions",
        "home": "Home", "archive": "Archive", "years": "Years", "speakers": "Speakers",
        "occasions": "Occasions", "contents": "Contents", "to_top": "Back to top", "speaker": "Speaker", "date": "Date",
        "occasion": "Occasion", "place": "Place", "language": "Language", "translations": "Translations",
        "latest": "Latest speeches", "all_speeches": "All speeches", "speeches": "speeches", "speeches_one": "speech",
        "skip": "Skip to content", "search": "Search", "not_found": "Page not found",
        "not_found_text": "The page you are looking for does not exist. Go back home to see all speeches.",
        "feed": "Atom feed", "download_pdf": "Download PDF", "pages": "pages", "pages_one": "page",
        "fingerprint": "SHA-256 fingerprint", "copy_for": "Copy for", "read_full": "Read the full speech",
        "sample": "Sample", "footnotes": "Footnotes", "published_by": "Published by",
        "verify_hint": "Compare this fingerprint with the one printed on the QR card.",
        "side_by_side": "Read side by side",
        "no_login": "This link never asks for a login or payment.", "copy_number": "Copy number",
        "copy_public": "The public page of this speech", "opening": "Opening",
        "accessibility": "Accessibility", "paragraph": "Paragraph", "search_site": "Search speeches",
        "all": "All", "previous": "Previous", "next": "Next", "page_of": "Page {n} of {m}",
        "listing_pages": "Listing pages", "all_years": "All years", "all_speakers": "All speakers",
        "all_occasions": "All occasions",
        "colophon": "Colophon", "online": "Online", "source": "Source text", "format": "Format",
        "colophon_text": "This archive copy carries its source text as an attached file.",
        "scan_phone": "Scan with your phone's camera", "edition": "Edition {n}",
        "table": "Table", "search_words": "Words in a speech", "searching": "Searching…",
        "search_none": "No speech matches.", "search_found": "{n} speeches found",
        "search_found_one": "1 speech found", "search_more": "Show more",
        "search_partial": "{n} more speeches only contain words that begin the same way.",
        "search_partial_one": "1 more speech only contains a word that begins the same way.",
        "search_none_whole": "No speech contains the whole word.",
        "search_partial_title": "Words that begin the same way",
        "search_unavailable": "Search is not available here (for example when opened straight from disk). Use the archive listings below.",
        "search_needs_js": "Search needs JavaScript. Every speech can still be reached from the archive listings below.",
        "search_description": "Find a speech by any word in its text.",
        "accessibility_statement": "Accessibility statement",
        "withdrawn_on": "Withdrawn on", "moved": "This page has moved to",
        "embargo_title": "Not yet available", "embargo_until": "Available from {when}",
        "embargo_text": "Your copy opens at this address at that moment. Keep your QR card.",
        "embargo_mark": "EMBARGO: not yet published, published {when}",
    },
}
# A counted word (`templates.count`) may have one entry per CLDR plural category of its language, as
# "<key>_<category>" ("speeches_one": "speech"); the plain key is the "other" form, and the only
# one a language without plural forms (Indonesian) needs.


PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def words_keys() -> list[str]:
    """Every word a language's set should have: the Indonesian set's keys (Indonesian counts
    without plural forms, so its set has every word and no plural form)."""
    return list(LABELS["id"])


def plural_of(key: str) -> str | None:
    """The counted word a key is a plural form of ("speeches" for "speeches_one"), or None."""
    base, _, form = key.rpartition("_")
    return base if key not in LABELS["id"] and form in PLURAL_FORMS and base in LABELS["id"] else None


def known_key(key: str) -> str | None:
    """The key of LABELS a project's word stands for: the key itself, or a counted word's plural
    form ("speeches_one" stands for "speeches"); None when there is none."""
    return key if key in LABELS["id"] else plural_of(key)


def word_problem(key: str, value: object) -> str | None:
    """Why a project's word cannot be used, or None: an unknown key (with the known ones), a
    value that is not text, or placeholders other than the English words' ("{n}" in "Edition {n}")."""
    base = known_key(key)
    if base is None:
        like = difflib.get_close_matches(key, LABELS["id"], n=1)
        return (f"unknown word {key!r}" + (f" (did you mean {like[0]!r}?)" if like else "")
                + "; the keys are those of speechgen's own words, in speechgen/labels.py")
    if not isinstance(value, str) or not value.strip():
        return f"{key} must be a text that is not empty, not {value!r}"
    wanted, given = set(_PLACEHOLDER.findall(LABELS["en"][base])), set(_PLACEHOLDER.findall(value))
    if given - wanted:
        return (f"{key} uses {', '.join('{' + g + '}' for g in sorted(given - wanted))}, which the English "
                f"words {LABELS['en'][base]!r} do not have")
    return None
