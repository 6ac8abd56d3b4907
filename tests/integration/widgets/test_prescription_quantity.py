"""The quantity from the posology: computed in whole packs, its counting and pack said, a quantity that does not
cover the posology or passes it by a pack or more warned about, in the doctor's language."""

import re

from widget_client import fill_in_ana_with_paracetamol

A_WEEK = {"product_code": "MED-042", "dose": "1", "unit": "tablet", "every_hours": "8", "duration_days": "7"}


def add(w, **fields):
    return w.post("/medications/add", data=A_WEEK | fields)


def started(widget, locale):
    w = widget(locale=locale)
    fill_in_ana_with_paracetamol(w)
    w.post("/medications/remove", data={"product_code": "MED-042"})
    return w


def test_the_line_form_names_the_counting_and_the_pack(widget):
    w = started(widget, "en")
    form = w.get("/medications/line", params={"product_code": "MED-042"})
    assert "Quantity to dispense (units)" in form.text
    assert "rounded up to whole packs (box of 20)" in form.text
    spanish = started(widget, "es").get("/medications/line", params={"product_code": "MED-042"})
    assert "redondeada a envases completos (caja de 20)" in spanish.text


def test_an_empty_quantity_is_the_posology_in_whole_packs(widget):
    w = started(widget, "en")
    assert "Quantity: 40 units" in add(w, quantity="").text  # 21 tablets: two boxes of 20


def test_too_little_is_warned_in_spanish(widget):
    w = started(widget, "es")
    warned = add(w, quantity="11")
    assert "La posología necesita 21 unidades y la cantidad es 11" in warned.text
    assert "Añadir con esta cantidad" in warned.text and "Cantidad: 11" not in warned.text


def test_a_pack_or_more_over_the_posology_is_warned_and_up_to_the_whole_packs_is_not(widget):
    w = started(widget, "en")
    assert "The posology needs 21 units and the quantity is 41" in add(w, quantity="41").text
    for enough in ("21", "40"):
        assert "posology needs" not in add(w, quantity=enough).text


def test_a_warned_quantity_has_the_focus_to_change_or_confirm_with_enter(widget):
    w = started(widget, "en")
    form = w.get("/medications/line", params={"product_code": "MED-042"}).text.replace("\n", " ")
    assert re.search(r'id="line-days"[^>]*data-osigu-focus', form)  # a new line starts at its days (dose suggested)
    warned = add(w, quantity="11").text.replace("\n", " ")
    assert re.search(r'id="line-quantity"[^>]*data-osigu-focus', warned)
    assert not re.search(r'id="line-dose"[^>]*data-osigu-focus', warned)
