"""What the tests share: the example office, the Kivy harness, MQTT watchers, the screen."""
