"""Host apps that embed the widgets, as an integrator would write them."""
