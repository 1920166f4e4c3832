# issue 12: a symbolic dim squared 40 times (2**40 factors unless capped)
import math
import torch
import torch.nn as nn


class Hostile(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        h = x.shape[0]
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
        return self.fc(x.view(h, -1))


class Good(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        return self.fc(x)  # expect: SHP002


model = Good()
y = model(torch.randn(2, 20))
