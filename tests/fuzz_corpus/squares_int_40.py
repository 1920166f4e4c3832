# issue 12: an int squared 40 times (beyond 2**64 after 6)
import math
import torch
import torch.nn as nn


class Hostile(nn.Module):
    def __init__(self):
        super().__init__()
        h = 3
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        h = h * h
        self.fc = nn.Linear(4, h)

    def forward(self, x):
        return self.fc(x)


class Good(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        return self.fc(x)  # expect: SHP002


model = Good()
y = model(torch.randn(2, 20))
