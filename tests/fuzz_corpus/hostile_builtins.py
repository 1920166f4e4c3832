# issue 12: every hostile builtin at once; the good class's SHP002 stands
import math
import torch
import torch.nn as nn


class Hostile(nn.Module):
    def __init__(self):
        super().__init__()
        self.j0 = all(range(1, 10**18))
        self.j1 = pow(10, 10**9)
        self.j2 = math.factorial(10**7)
        self.j3 = 10**10**10
        self.j4 = "{:>1500000000}".format(1)
        self.j5 = "x" * 10**10
        self.j6 = [0] * 10**9
        self.j7 = 1 << 10**10
        self.j8 = math.comb(10**9, 5 * 10**8)
        self.j9 = round(5, -10**9)
        self.j10 = sum(range(10**18))
        self.j11 = list(range(10**12))
        self.j12 = "%1500000000d" % 1
        self.j13 = f"{1:>1500000000}"
        self.body = nn.Sequential(*([nn.ReLU()] * 10**8))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.body(x))


class Good(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        return self.fc(x)  # expect: SHP002


model = Good()
y = model(torch.randn(2, 20))
