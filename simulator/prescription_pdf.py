"""Render a prescription as a real, printable PDF, in the patient's language and any script DejaVu covers."""

import io
import re
from importlib import resources

from babel.dates import format_date, format_time
from fpdf import FPDF

from . import diagnoses
from .db import aware

FONTS = resources.files(__package__) / "fonts"
FONT = "DejaVu"
# Where DejaVu has no glyph (colour emoji, CJK...) a visible replacement mark beats a blank or a crash.
REPLACEMENT = "\ufffd"

WORDS = {
    "en": {"title": "Prescription", "issued_by": "Issued by", "prescriber": "Prescriber", "issued_at": "Issued on",
           "patient": "Patient", "status": "Status", "repository": "National repository", "diagnoses": "Diagnoses",
           "medications": "Medications", "quantity": "Quantity", "duration": "Duration",
           "days": ("{n} day", "{n} days"), "substitution": "Substitution not allowed",
           "PRESCRIPTION_ISSUED": "Issued, not yet dispensed", "PRESCRIPTION_DISPENSED": "Dispensed",
           "PRESCRIPTION_CANCELLED": "Cancelled by the prescriber: do not dispense"},
    "es": {"title": "Receta", "issued_by": "Emitida por", "prescriber": "Prescriptor", "issued_at": "Fecha de emisión",
           "patient": "Paciente", "status": "Estado", "repository": "Repositorio nacional", "diagnoses": "Diagnósticos",
           "medications": "Medicamentos", "quantity": "Cantidad", "duration": "Duración",
           "days": ("{n} día", "{n} días"), "substitution": "No se permite la sustitución",
           "PRESCRIPTION_ISSUED": "Emitida, sin dispensar", "PRESCRIPTION_DISPENSED": "Dispensada",
           "PRESCRIPTION_CANCELLED": "Anulada por el prescriptor: no dispensar"},
    "pt": {"title": "Receita", "issued_by": "Emitida por", "prescriber": "Prescritor", "issued_at": "Data de emissão",
           "patient": "Paciente", "status": "Estado", "repository": "Repositório nacional", "diagnoses": "Diagnósticos",
           "medications": "Medicamentos", "quantity": "Quantidade", "duration": "Duração",
           "days": ("{n} dia", "{n} dias"), "substitution": "Substituição não permitida",
           "PRESCRIPTION_ISSUED": "Emitida, por dispensar", "PRESCRIPTION_DISPENSED": "Dispensada",
           "PRESCRIPTION_CANCELLED": "Anulada pelo prescritor: não dispensar"},
}


def days(count, language):
    """Say a number of days ("1 día", "10 dias")."""
    one, many = WORDS[language]["days"]
    return (one if count == 1 else many).format(n=count)


def mentions_days(posology, count):
    """Whether the prescriber's posology already says how many days ("... for 10 days", "durante 10 días")."""
    return re.search(rf"\b{count}\s*(days?|d[ií]as?)\b", posology, re.IGNORECASE) is not None


def issued_on(moment, language):
    """Date and time as the language writes them; UTC, labelled, since the patient's zone is unknown."""
    moment = aware(moment)
    return f"{format_date(moment, 'long', locale=language)}, {format_time(moment, 'HH:mm', locale=language)} UTC"


class PrescriptionPdf(FPDF):
    """An A4 page set in DejaVu Sans, which covers Latin, Greek and Cyrillic."""

    def __init__(self):
        super().__init__(format="A4")
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.glyphs = self.fonts["dejavu"].cmap

    def printable(self, text):
        """Replace each character the font cannot draw, so no name ever breaks the PDF."""
        return "".join(char if ord(char) in self.glyphs or char in "\n\t" else REPLACEMENT for char in text)

    def line(self, text, size=10, style="", height=6):
        self.set_font(FONT, style, size)
        self.multi_cell(0, height, self.printable(text), new_x="LMARGIN", new_y="NEXT")

    def field(self, label, value):
        self.set_font(FONT, "", 10)
        self.cell(50, 7, self.printable(label))
        self.multi_cell(0, 7, self.printable(value), new_x="LMARGIN", new_y="NEXT")


def render_pdf(prescription, language):
    """Return a BytesIO holding the prescription's PDF, worded in language (en, es or pt)."""
    words = WORDS[language]
    patient = prescription.patient
    pdf = PrescriptionPdf()
    pdf.set_title(f"{words['title']} {prescription.code}")
    pdf.set_author(prescription.provider.name)
    pdf.set_lang(language)
    pdf.add_page()
    pdf.line(f"{words['title']} {prescription.code}", size=16, style="B", height=10)
    fields = [
        (words["issued_by"], prescription.provider.name),
        (words["prescriber"], prescription.doctor_id or prescription.provider.name),
        (words["issued_at"], issued_on(prescription.created_at, language)),
        (words["patient"], f"{patient.first_name} {patient.last_name} ({patient.document_type} "
                           f"{patient.document_number})"),
        (words["status"], words[prescription.status]),
    ]
    if prescription.national_repository_id:
        fields.append((words["repository"], prescription.national_repository_id))
    for label, value in fields:
        pdf.field(label, value)
    pdf.ln(4)
    pdf.line(words["diagnoses"], size=12, style="B", height=8)
    for code in prescription.diagnoses:
        pdf.line(f"{code} {diagnoses.describe(code, language)['description']}")
    pdf.ln(4)
    pdf.line(words["medications"], size=12, style="B", height=8)
    for line in prescription.lines:
        product = line.product.to_json(language)
        pdf.line(f"{line.line_no}. {product['name']}, {product['presentation']} ({line.product_code})", style="B")
        # The posology is the prescriber's own sentence (it often says the duration already).
        details = [line.posology, f"{words['quantity']}: {line.quantity}"]
        if line.duration_days and not mentions_days(line.posology, line.duration_days):
            details.append(f"{words['duration']}: {days(line.duration_days, language)}")
        if not line.substitution_allowed:
            details.append(words["substitution"])
        pdf.line("    " + " · ".join(details))
    return io.BytesIO(pdf.output())
