"""What the Kivy apps share that is not the queue's core: the X screen's size
for their full screen. No UI import at module level."""
