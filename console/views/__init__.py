"""The console's web layer, one module per feature, each with its own `routes` (web.RouteTableDef):
inbox, conversation (transcript, export, take over), attention, knowledge, improve, overview, staff
(sign-in and accounts). console/app.py puts them behind the guard."""
