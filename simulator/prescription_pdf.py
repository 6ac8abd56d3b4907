"""Render a prescription as a real, printable PDF."""

import io

from fpdf import FPDF

from . import diagnoses
from .db import isoformat


def render_pdf(prescription):
    """Return a BytesIO holding the prescription's PDF."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Prescription {prescription.code}")
    pdf.set_author(prescription.provider.name)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, f"Prescription {prescription.code}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    patient = prescription.patient
    for label, value in (
        ("Issued by", prescription.provider.name),
        ("Issued at", isoformat(prescription.created_at)),
        ("Patient", f"{patient.first_name} {patient.last_name} ({patient.document_type} {patient.document_number})"),
        ("Status", prescription.status),
        ("National repository", prescription.national_repository_id or "-"),
    ):
        pdf.cell(40, 7, label)
        pdf.cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Diagnoses", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for code in prescription.diagnoses:
        pdf.cell(0, 6, f"{code}  {diagnoses.describe(code)['description']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Medications", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in prescription.lines:
        duration = f", {line.duration_days} days" if line.duration_days else ""
        pdf.multi_cell(0, 6, f"{line.line_no}. {line.product.name} ({line.product_code}) x {line.quantity}\n"
                             f"    {line.posology}{duration}", new_x="LMARGIN", new_y="NEXT")
    return io.BytesIO(pdf.output())
