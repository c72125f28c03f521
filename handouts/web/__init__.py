"""``handouts serve``: the web app (front desk and live preview) and what it is made of."""
