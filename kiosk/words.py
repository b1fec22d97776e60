"""Words the kiosk shows and prints, Bahasa Indonesia first, English second."""

from __future__ import annotations

import contextlib
import math
import re
from datetime import date, datetime

from antrean.words import DAYS_ID, MONTHS_ID

DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "choose": "Sentuh layanan yang Anda perlukan",
        "waiting": "{n} menunggu",
        "wait": "tunggu {t}",
        "priority_button": "PRIORITAS",
        "priority_who": "Lansia, disabilitas, ibu hamil",
        "priority_hint": "Sentuh di sini, lalu pilih layanan",
        "priority_choose": "NOMOR PRIORITAS: sentuh layanan Anda",
        "cancel": "Batal",
        "printing": "Mencetak tiket...",
        "your_number": "Nomor antrean Anda",
        "take_ticket": "Silakan ambil tiket Anda",
        "ahead": "{n} orang di depan Anda",
        "estimate": "Perkiraan tunggu {t}",
        "touch_to_close": "Sentuh layar untuk selesai",
        "trouble_title": "Tiket tidak tercetak",
        "trouble_note": "Foto atau catat nomor ini. Nomor Anda tetap terdaftar.",
        "reprint": "Cetak ulang",
        "done_button": "Selesai",
        "trouble_staff": "Tunjukkan nomor ini kepada petugas.",
        "not_connected": "Sedang menyambung ke sistem antrean...",
        "not_connected_note": "Mohon tunggu sebentar. Layar ini akan siap dengan sendirinya.",
        "server_full": "Penyimpanan server antrean penuh",
        "server_full_note": "Nomor belum bisa diambil. Silakan hubungi petugas.",
        "printer_blocked": "Printer tiket sedang bermasalah",
        "printer_blocked_note": "Nomor belum bisa diambil. Silakan hubungi petugas.",
        "no_answer": "Nomor belum diambil",
        "no_answer_note": "Sistem antrean tidak menjawab. Tidak ada nomor yang terdaftar. "
        "Silakan coba lagi.",
        "no_answer_maybe": "Sistem antrean lambat",
        "no_answer_maybe_note": "Sistem antrean belum menjawab. Sentuh lagi layanan yang sama: "
        "Anda akan mendapat nomor yang sama, bukan nomor baru.",
        "refused": "Nomor belum bisa diambil",
        "repeat_taken": "Anda sudah mengambil nomor {code}.",
        "repeat_ask": "Ambil nomor baru?",
        "yes": "Ya",
        "no": "Tidak",
        "ok": "OK",
        "language": "English",
        "closed": "Tutup",
        "soon": "segera",
        "minutes": "{m} menit",
        "hours": "{h} jam {m} menit",
        "no_counter": "loket belum dibuka",
        "wait_unknown": "belum diketahui (loket belum dibuka)",
        "booking_button": "Sudah mendaftar? Masukkan kode booking",
        "code_title": "Masukkan kode booking Anda",
        "code_hint": "8 angka pada slip booking, atau dekatkan kode QR ke pemindai",
        "delete": "Hapus",
        "code_short": "Kode booking terdiri dari 8 angka.",
        "nik_title": "Masukkan 16 angka NIK Anda",
        "nik_hint": "NIK ada di KTP-el atau Kartu Keluarga. Yang terlihat hanya 4 angka terakhir.",
        "nik_short": "NIK terdiri dari 16 angka.",
        "last4_title": "4 angka terakhir NIK Anda",
        "last4_hint": "NIK orang yang didaftarkan pada booking ini",
        "last4_short": "Masukkan 4 angka.",
        "nik_checking": "Memeriksa NIK...",
        "nik_no_answer": "Sistem antrean belum menjawab. Silakan tanya petugas "
        "apakah nomor Anda sudah tercatat.",
        "booking": "Booking {slot}",
        "booking_checking": "Memeriksa kode booking...",
        "booking_offline": "Belum tersambung ke sistem antrean. Tunggu sebentar, lalu tekan OK.",
        "booking_no_answer": "Sistem antrean belum menjawab. Tekan OK lagi: "
        "Anda akan mendapat nomor yang sama, bukan nomor baru.",
        "schedule_button": "Jadwal keliling",
        "schedule_title": "Jadwal layanan keliling",
        "schedule_more": "dan {n} kunjungan lagi: tanyakan kepada petugas",
        "back": "Kembali",
    },
    "en": {
        "choose": "Touch the service you need",
        "waiting": "{n} waiting",
        "wait": "{t} wait",
        "priority_button": "PRIORITY",
        "priority_who": "Elderly, disabled, pregnant",
        "priority_hint": "Touch here, then choose the service",
        "priority_choose": "PRIORITY NUMBER: touch your service",
        "cancel": "Cancel",
        "printing": "Printing your ticket...",
        "your_number": "Your queue number",
        "take_ticket": "Please take your ticket",
        "ahead": "{n} people ahead of you",
        "estimate": "Estimated wait: {t}",
        "touch_to_close": "Touch the screen to finish",
        "trouble_title": "The ticket was not printed",
        "trouble_note": "Take a photo of this number or write it down. It is in the queue.",
        "reprint": "Print again",
        "done_button": "Done",
        "trouble_staff": "Show this number to the staff.",
        "not_connected": "Connecting to the queue system...",
        "not_connected_note": "Please wait a moment. This screen will be ready by itself.",
        "server_full": "The queue server's storage is full",
        "server_full_note": "No number can be taken now. Please ask the staff.",
        "printer_blocked": "The ticket printer has a problem",
        "printer_blocked_note": "No number can be taken now. Please ask the staff.",
        "no_answer": "No number was taken",
        "no_answer_note": "The queue system did not answer. No number is registered. "
        "Please try again.",
        "no_answer_maybe": "The queue system is slow",
        "no_answer_maybe_note": "The queue system has not answered yet. Touch the same service "
        "again: you will get the same number, not a new one.",
        "refused": "No number can be taken",
        "repeat_taken": "You already took number {code}.",
        "repeat_ask": "Take a new number?",
        "yes": "Yes",
        "no": "No",
        "ok": "OK",
        "language": "Bahasa Indonesia",
        "closed": "Closed",
        "soon": "short",
        "minutes": "{m} min",
        "hours": "{h} h {m} min",
        "no_counter": "no counter open yet",
        "wait_unknown": "not known yet (no counter open yet)",
        "booking_button": "Booked? Enter your code",
        "code_title": "Enter your booking code",
        "code_hint": "The 8 digits on your booking slip, or hold its QR code to the scanner",
        "delete": "Delete",
        "code_short": "A booking code has 8 digits.",
        "nik_title": "Enter the 16 digits of your NIK",
        "nik_hint": "Your NIK is on your KTP-el or family card. "
        "Only the last 4 digits stay visible.",
        "nik_short": "A NIK has 16 digits.",
        "last4_title": "Last 4 digits of your NIK",
        "last4_hint": "The NIK of the person this booking is for",
        "last4_short": "Enter 4 digits.",
        "nik_checking": "Checking the NIK...",
        "nik_no_answer": "The queue system has not answered. Please ask the staff "
        "whether your number was registered.",
        "booking": "Booked {slot}",
        "booking_checking": "Checking the booking code...",
        "booking_offline": "Not connected to the queue system yet. Wait a moment, then press OK.",
        "booking_no_answer": "The queue system has not answered. Press OK again: "
        "you will get the same number, not a new one.",
        "schedule_button": "Mobile unit visits",
        "schedule_title": "Where the mobile unit goes next",
        "schedule_more": "and {n} more visits: please ask the staff",
        "back": "Back",
    },
}

# Refusals the queue service words in Indonesian; English for the codes it uses.
_REFUSALS_EN = {
    "quota_full": "Today's quota is full. Please come back tomorrow.",
    "service_closed": "Closed for now",
    "priority_disabled": "No priority queue at this office.",
}


# Booking refusals (docs/protocol.md, redeem): Indonesian from the service, English here,
# filled from the error's fields ({slot}, {come_back}, {day}).
_BOOKING_EN = {
    "booking_mistyped": "The booking code has a typing error. Check the digits again.",
    "booking_unknown": "This booking code was not found. Check the digits again.",
    "booking_used": "This booking code has already been used.",
    "booking_cancelled": "This booking has been cancelled.",
    "booking_other_day": "This code is for {day}, {slot}; not today.",
    "booking_for_visit": "This code is for the mobile service on {day}, {slot}; use it there, "
    "not at the office.",
    "booking_early": "Your time is {slot}. Please come back from {come_back}.",
    "booking_late": "Your time {slot} has passed. Please take a normal queue number.",
    "nik_used_today": "This NIK has already taken a number today.",
    "nik_invalid": "This is not a possible NIK. Check the digits again.",
    "nik_required": "This service needs your NIK. Enter its 16 digits.",
    "nik_last4_required": "Enter the last 4 digits of your NIK.",
    "nik_mismatch": "The last 4 digits of the NIK do not match this booking.",
    "too_many_attempts": "Too many wrong codes. Try again in {retry_after_s} seconds.",
}


def booking_refusal(language: str, code: str, message: str, details: dict[str, object]) -> str:
    """Why a booking code gives no number: the service's words, or English from its fields."""
    if language != "en" or code not in _BOOKING_EN:
        return refusal(language, code, message)
    slot = str(details.get("slot") or "")
    come_back = str(details.get("come_back") or "").replace(":", ".")
    day = str(details.get("day") or "")
    with contextlib.suppress(ValueError):  # not a date: shown as it came
        day = long_date("en", datetime.fromisoformat(day)) if day else day
    retry = details.get("retry_after_s", "")
    return _BOOKING_EN[code].format(slot=slot, come_back=come_back, day=day, retry_after_s=retry)


def wait_estimate(ticket_or_state: dict[str, object]) -> int | None:
    """`estimated_wait_s` of a ticket or service state; None when no counter serving it is open.

    A queue service older than `counters_open` does not send it: its estimate stands.
    """
    if ticket_or_state.get("counters_open") == 0:
        return None
    seconds = ticket_or_state.get("estimated_wait_s")
    return int(seconds) if isinstance(seconds, int | float) else 0


def text(language: str, key: str, **values: object) -> str:
    """A UI text in `language` ("id" or "en") with its {placeholders} filled."""
    return TEXTS.get(language, TEXTS["id"])[key].format(**values)


def duration(language: str, seconds: int | None) -> str:
    """A wait in words: "segera", "5 menit", "1 jam 20 menit"; None: no counter is open."""
    if seconds is None:
        return text(language, "wait_unknown")
    if seconds <= 0:
        return text(language, "soon")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return text(language, "minutes", m=minutes)
    return text(language, "hours", h=minutes // 60, m=minutes % 60)


def refusal(language: str, code: str, message: str) -> str:
    """The reason a service takes no number now, as the queue service gave it or in English."""
    if language != "en":
        return message
    if code == "office_closed":
        at = re.search(r"pukul (\d{2}\.\d{2})", message)
        if at and "dibuka" in message:
            return f"Opens at {at.group(1)}"
        if at:
            return f"Closed at {at.group(1)} today. Please come back on the next working day."
        return "The office is closed today."
    if code == "service_closed":
        return f"{_REFUSALS_EN['service_closed']}: {message}"
    return _REFUSALS_EN.get(code, message)


def long_date(language: str, when: datetime) -> str:
    """ "Kamis, 26 November 2026" / "Thursday, 26 November 2026"."""
    return f"{day_month(language, when.date())} {when.year}"


def day_month(language: str, day: date) -> str:
    """ "Sabtu, 5 Desember" / "Saturday, 5 December": a day of the coming weeks."""
    days, months = (DAYS_EN, MONTHS_EN) if language == "en" else (DAYS_ID, MONTHS_ID)
    return f"{days[day.weekday()]}, {day.day} {months[day.month - 1]}"


def clock_time(when: datetime) -> str:
    """ "09.04 WIB": Indonesian writes hours with a dot; the zone from the office's tz."""
    return f"{when:%H.%M} {when.tzname() or ''}".strip()
