"""Favourites: a doctor (the host's user.id) saves a line as a favourite; it comes first in the medication search
and is added in one action, for that doctor of that host app only."""

import re

from widget_client import fill_in_ana_with_paracetamol, step_of

SAVE = 'aria-label="Save Paracetamol 500 mg tablet, box of 20 as a favourite"'
ADD = 'aria-label="Add Paracetamol 500 mg tablet, box of 20"'


def doctor(widget, user_id):
    """A session of this doctor with Ana López's paracetamol line on it."""
    w = widget(locale="en", user={"id": user_id, "name": "Dr Fav", "role": "doctor"})
    fill_in_ana_with_paracetamol(w)
    return w


def codes_found(w):
    """The product codes a search for paracetamol offers, in order."""
    found = w.get("/medications/search", params={"q": "paracetamol"})
    return re.findall(r'name="product_code"\s+value="(MED-\d+)"', found.text)


def test_a_saved_line_is_offered_first_and_added_in_one_action(widget):
    w = doctor(widget, "dr-fav-1")
    assert SAVE in w.get("/medications").text
    assert SAVE not in w.post("/medications/favourite", data={"product_code": "MED-042"}).text  # saved

    again = doctor(widget, "dr-fav-1")
    again.post("/medications/remove", data={"product_code": "MED-042"})
    medications = again.get("/medications")
    assert "Your favourites" in medications.text and ADD in medications.text
    found = again.get("/medications/search", params={"q": "paracetamol"})
    assert re.findall(r'name="product_code"\s+value="(MED-\d+)"', found.text)[0] == "MED-042"
    assert codes_found(doctor(widget, "dr-fav-0"))[0] != "MED-047"  # without a favourite: Tylenol is not first
    tylenol = doctor(widget, "dr-fav-0")
    tylenol.post("/medications/add", data={"product_code": "MED-047", "quantity": "", "dose": "1", "unit": "tablet",
                                           "every_hours": "8", "duration_days": "5"})
    tylenol.post("/medications/favourite", data={"product_code": "MED-047"})
    assert codes_found(doctor(widget, "dr-fav-0"))[0] == "MED-047"
    added = again.post("/medications/favourite/add", data={"product_code": "MED-042"})
    assert step_of(added) == "medications" and "1 tablet every 8 hours for 10 days" in added.text
    assert "Quantity: 30 units" in added.text and ADD not in added.text


def test_another_doctors_favourites_are_neither_offered_nor_added(widget):
    doctor(widget, "dr-fav-2").post("/medications/favourite", data={"product_code": "MED-042"})
    other = doctor(widget, "dr-fav-3")
    other.post("/medications/remove", data={"product_code": "MED-042"})
    assert "Your favourites" not in other.get("/medications").text
    crafted = other.post("/medications/favourite/add", data={"product_code": "MED-042"})
    assert "No medication yet" in crafted.text


def test_a_favourite_found_by_the_search_is_added_as_saved_by_the_button_enter_picks(widget):
    doctor(widget, "dr-fav-4").post("/medications/favourite", data={"product_code": "MED-042"})
    again = doctor(widget, "dr-fav-4")
    again.post("/medications/remove", data={"product_code": "MED-042"})
    found = again.get("/medications/search", params={"q": "paracetamol"}).text.replace("\n", " ")
    first = re.search(r"<li>(.*?)</li>", found).group(1)
    assert re.search(r'hx-post="/widgets/prescription/medications/favourite/add"[^>]*value="MED-042"[^>]*'
                     r'data-osigu-pick', first)  # one action; the posology form stays beside it
    assert "/widgets/prescription/medications/line" in first
    assert found.count("data-osigu-pick") == 1  # only a favourite is added without its form
