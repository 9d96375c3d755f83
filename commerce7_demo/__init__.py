"""The Commerce7 demo store: an emulator of the Commerce7 API that `make run` starts when no
real tenant's credentials are set (the product's demo mode; MILEA_ENV=production refuses it).
Tests use it too, as a real HTTP server the real client talks to."""
