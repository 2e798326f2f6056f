// placeholder until the app is written
